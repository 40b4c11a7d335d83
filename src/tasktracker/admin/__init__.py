"""What knows every domain: the schema as data, its diagram, row counts, migrations driven
from code, the downgrade guard and the health check.

Above the registry (`tasktracker.models`) and the migrations, so the core (`db`) never has
to reach up for the tables. Each module is imported on its own; this package loads nothing.

- `catalog`: every table, parents first, with its mapped model and domain.
- `stats`: row counts and sizes. `diagram`: the Mermaid ER diagram.
- `schema`: Alembic driven from code (its environment imports the registry).
- `downgrade`: what a downgrade would drop. `health`: the health check (revision vs head).
"""
