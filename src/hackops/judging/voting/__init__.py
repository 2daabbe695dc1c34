"""Public voting: one vote per verified account and track during the voting window."""
