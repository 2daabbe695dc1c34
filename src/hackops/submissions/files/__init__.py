"""Uploaded files: intake with limits, kind and structure checks, storage, downloads."""
