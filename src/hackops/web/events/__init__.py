"""Page modules of the events domain, one per area of the organizers' admin."""
