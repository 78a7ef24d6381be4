"""Outbound I/O, async: GitHub dispatch, webhooks, Slack, email, and the outbound-URL guard."""
