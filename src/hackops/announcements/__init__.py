"""Organizer announcements (compose, preview, send now or at a time, figures) and the event
reminders the organizer switches on, both told through the outbox (`rules.py`)."""
