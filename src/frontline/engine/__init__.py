"""The engine: runs any registered flow (cursor, claims, inbox consumer, workers, ledger)."""
