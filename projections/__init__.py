"""Read models: PostgreSQL tables filled from the event store's notification log."""
