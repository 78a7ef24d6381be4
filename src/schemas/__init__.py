"""Pydantic response models: the wire contract, rendered the same by both doors."""
