"""Rubric evaluations and the rankings computed from them."""
