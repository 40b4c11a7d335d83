"""`tasktracker quickstart`: migrate, seed a small demo, and show what is in the database."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from tasktracker.cli.console import engine, out

if TYPE_CHECKING:
    from sqlalchemy import Engine


def quickstart() -> None:
    """Migrate the database, seed a small demo (once), and show it.

    Uses DATABASE_URL (default: the embedded SQLite file ./tasktracker.db). Safe to run
    again: the demo is written only once.

    Example: tasktracker quickstart
    """
    from tasktracker.admin import schema
    from tasktracker.db.settings import mask_url
    from tasktracker.seeding.demo import ADA, DEMO_PASSWORD, DEMO_USERS, seed_demo

    with engine(create=True) as bound:
        out.rule("[bold]TaskTracker quickstart[/bold]", align="left")
        out.print(f"database   {mask_url(bound.url)}")
        with bound.connect() as connection:
            before = schema.current_revision(connection)
        schema.upgrade(bound)
        head = schema.head_revision()
        moved = f"migrated from {before or 'base'} to {head}" if before != head else f"at {head}"
        out.print(f"schema     {moved} (head)")
        demo = seed_demo(bound)
        state = "created" if demo.created else "already present (nothing written)"
        out.print(f"demo data  {state}")
        users = " or ".join(user.email for user in DEMO_USERS)
        out.print(f"sign in    {users}, password {DEMO_PASSWORD}")
        out.print()
        _show(bound, ADA.email, demo.user_ids[ADA.email])


def _show(bound: Engine, email: str, user_id: uuid.UUID) -> None:
    from tasktracker.admin.health import check_health
    from tasktracker.admin.stats import table_counts
    from tasktracker.cli import views
    from tasktracker.db.sessions import Database
    from tasktracker.tasks.label_repository import LabelRepository
    from tasktracker.tasks.repository import (
        CategoryRepository,
        TaskFilter,
        TaskRepository,
        TaskSort,
    )
    from tasktracker.testspec import TraceabilityService
    from tasktracker.testspec.services.coverage import CoverageService

    db = Database(bound)
    with db.session() as session:
        out.print(views.counts_table(table_counts(session)))
    with db.user_scope(user_id) as session:
        open_tasks = TaskRepository(session).list(
            TaskFilter(completed=False), sort=TaskSort.DUE_SOONEST, limit=20
        )
        categories = {c.id: c.name for c in CategoryRepository(session).list(limit=100).items}
        matrix = TraceabilityService(session).matrix()
        coverage = CoverageService(session).report()
        tasks = TaskRepository(session)
        rollup = tasks.progress([task.id for task in open_tasks.items if task.parent_id is None])
        parents = [id for id, done in rollup.items() if done.total]
        tree = tasks.tree(parents[0]) if parents else []
        progress = tasks.progress([node.task.id for node in tree])
        labels = LabelRepository(session).counts().items
    results = {
        (requirement.key, cell.specification_key): cell.status.value
        for requirement in coverage.requirements
        for cell in requirement.cells
        if cell.status is not None
    }
    out.print()
    out.print(views.open_tasks_table(open_tasks.items, categories, title=f"open tasks of {email}"))
    if tree:
        out.print()
        out.print(views.tree_table(tree, progress, title="a task and its subtasks"))
    out.print()
    out.print(views.label_counts_table(labels, title=f"labels of {email}"))
    out.print()
    out.print(views.traceability_table(matrix, title=f"traceability of {email}", results=results))
    out.print()
    out.print(views.health_table(check_health(bound)))
    out.print()
    out.print(
        f"next: tasktracker db stats | tasktracker db diagram | tasktracker export --user {email}"
    )
