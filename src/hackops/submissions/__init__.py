"""Submissions: versions, files, the processing pipeline and duplicate detection."""
