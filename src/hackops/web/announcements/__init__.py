"""Pages of announcements: the organizers' tab and what participants read."""
