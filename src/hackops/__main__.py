from hackops.cli import main

main()
