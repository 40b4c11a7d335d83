"""The async facades of what a unit carries, one module per domain, generated from the sync
classes by `scripts/generate_async_facades.py` (docs/architecture.md, "Async units")."""
