"""A team's submission: the working copy, submitted versions, and who sees how much."""
