"""The processing pipeline of a submitted version: its jobs and the work of each step."""
