"""Judging mathematics: fair assignment, judge-effect normalisation, ranking and Crowd-BT."""
