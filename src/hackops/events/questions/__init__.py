"""Custom registration questions of an event and the validation of answers."""
