"""The domain: aggregates, their events and the read-only ledger over them."""
