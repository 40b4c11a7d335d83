"""Data for development and benchmarks.

- `demo`: the quickstart's two users and their small workspace, written once through the
  domain repositories and services (`seed_demo`).
- `volume`: deterministic Faker data for every domain at any size, loaded through the
  bulk path (`SeedPlan`, `load`); what `tasktracker db seed` and the benchmark use.
"""
