"""Business operations shared by both doors: sync Session in, domain objects out, typed errors."""
