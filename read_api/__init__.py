"""Queries: ticket history and replay from the event store (projections come later)."""
