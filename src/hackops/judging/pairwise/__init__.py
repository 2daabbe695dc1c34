"""Pairwise (expo) judging: the Crowd-BT model and the judge's pair, vote, skip, undo."""
