"""Metrics and log format shared by both doors and the scheduler; imports nothing else of src."""
