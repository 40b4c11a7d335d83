"""The compiled fast path: the hottest statements compiled once per dialect and sent straight
to the driver, their rows returned as immutable read rows.

`compiled` runs the statements (`CompiledQuery`, `QueryCache`), `decoding` turns driver
rows into read rows. What they read of SQLAlchemy beyond its public API goes through
`db.sqlalchemy_internals` (shared with the scope guard, so it lives beside it in `db`).
"""
