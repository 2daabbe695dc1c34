"""Page modules of the judging domain: the judging admin, the judge's pages, flags, the ranking
and the live leaderboard."""
