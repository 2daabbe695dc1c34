"""Telling people: in-app notifications, mail, preferences (`service.deliver`), and the outbox's
people channel (`fanout.people`, its rules in `rules.py`)."""
