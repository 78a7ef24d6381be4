"""Scheduler runtime, lease, DB→scheduler sync, and the executor (one run of a job)."""
