"""Page modules of the registrations domain."""
