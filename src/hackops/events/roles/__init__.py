"""An event's roles (organizer, judge, mentor): grants, invitations by email, my roles."""
