"""The organizers' side of submissions: review queue, decisions, flags, gallery."""
