"""Page modules of the submissions domain: a team's submission, organizer review, the gallery."""
