"""Page modules of the teams domain: the teams area and a team's page, the task board."""
