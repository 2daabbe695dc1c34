"""Judges' flags: a judge tells the organizers something is wrong with a project."""
