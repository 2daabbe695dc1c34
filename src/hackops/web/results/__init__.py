"""Page modules of the results domain: the published results and pairwise judging."""
