"""Figures for organizers: an event's dashboard (`service`), an organization's events side by
side and the same across organizations for platform admins (`overview`)."""
