"""An event's data for its organizers: exports as CSV, XLSX and JSON (`service.py` reads the
tables, `formats.py` writes them, `router.py` and the admin pages send them), and each
person's private calendar feed of their events (`calendar.py`)."""
