"""Rich renderings shared by several commands (tables only; no queries here)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

from rich.table import Table
from rich.text import Text

from tasktracker.admin.health import HealthReport
from tasktracker.admin.stats import TableStats
from tasktracker.cli.console import human_bytes
from tasktracker.db.search import SearchHit
from tasktracker.db.search.searching import HIGHLIGHT
from tasktracker.tasks.labels import LabelCount
from tasktracker.tasks.models import Task
from tasktracker.tasks.repository import TreeTask
from tasktracker.tasks.tree import Progress
from tasktracker.testspec.services.traceability import TraceabilityMatrix


def counts_table(
    stats: Iterable[TableStats], *, title: str = "rows per table", per_user: int | None = None
) -> Table:
    """Rows per table by domain; with `per_user` (the number of users) also the average."""
    stats = list(stats)
    with_sizes = any(entry.bytes is not None for entry in stats)
    table = Table("domain", "table", "rows", title=title, title_justify="left")
    table.columns[2].justify = "right"
    if per_user:
        table.add_column("per user", justify="right")
    if with_sizes:
        table.add_column("size", justify="right")
    previous = None
    for entry in stats:
        cells = [entry.domain if entry.domain != previous else "", entry.table, f"{entry.rows:,}"]
        previous = entry.domain
        if per_user:
            cells.append("-" if entry.table == "users" else f"{entry.rows / per_user:,.1f}")
        if with_sizes:
            cells.append(human_bytes(entry.bytes))
        table.add_row(*cells)
    return table


def open_tasks_table(
    tasks: Iterable[Task], categories: Mapping[uuid.UUID, str], *, title: str
) -> Table:
    table = Table(
        "due", "title", "status", "priority", "category", title=title, title_justify="left"
    )
    for task in tasks:
        due = task.due_date.strftime("%Y-%m-%d") if task.due_date else "-"
        if task.is_overdue:
            due = f"[bold red]{due} OVERDUE[/bold red]"
        category = categories.get(task.category_id, "-") if task.category_id else "-"
        table.add_row(due, task.title, task.status.value, task.priority.value, category)
    return table


def tree_table(
    tree: Iterable[TreeTask], progress: Mapping[uuid.UUID, Progress], *, title: str
) -> Table:
    """A task and its subtasks, indented by depth, with each parent's done/total."""
    table = Table("task", "status", "subtasks done", title=title, title_justify="left")
    for node in tree:
        done = progress.get(node.task.id)
        shown = f"{done.done}/{done.total}" if done and done.total else "-"
        indent = "  " * node.depth + ("└ " if node.depth else "")
        table.add_row(f"{indent}{node.task.title}", node.task.status.value, shown)
    return table


def label_counts_table(counts: Iterable[LabelCount], *, title: str) -> Table:
    table = Table("label", "tasks", title=title, title_justify="left")
    table.columns[1].justify = "right"
    for count in counts:
        table.add_row(Text(count.name, style=count.color), str(count.tasks))
    return table


def health_table(report: HealthReport) -> Table:
    table = Table("check", "value", title="database health", title_justify="left")
    for key, value in report.to_dict().items():
        if isinstance(value, dict):
            shown = ", ".join(f"{k} {v}" for k, v in value.items())
        else:
            shown = "-" if value is None else str(value)
        table.add_row(key, shown)
    return table


def traceability_table(matrix: TraceabilityMatrix, *, title: str) -> Table:
    """Requirement → verifying specifications; uncovered rows and suspect links highlighted."""
    table = Table(
        "requirement", "title", "kind", "rev", "verified by", title=title, title_justify="left"
    )
    for requirement in matrix.requirements:
        if not requirement.is_covered:
            table.add_row(
                f"[bold red]{requirement.key}[/bold red]",
                requirement.title,
                requirement.kind.value,
                str(requirement.revision),
                "[bold red]UNCOVERED[/bold red]",
            )
            continue
        links = ", ".join(
            f"{link.specification_key} [yellow](suspect)[/yellow]"
            if link.is_suspect
            else link.specification_key
            for link in requirement.links
        )
        table.add_row(
            requirement.key,
            requirement.title,
            requirement.kind.value,
            str(requirement.revision),
            links,
        )
    overall = matrix.overall
    table.caption = f"coverage {overall.covered}/{overall.total} requirements ({overall.ratio:.0%})"
    table.caption_justify = "left"
    return table


def search_table(hits: Iterable[SearchHit], *, title: str) -> Table:
    """Search hits, best first: kind, title, the snippet with its matches in bold, rank.
    The text is the user's own, never read as Rich markup."""
    table = Table("kind", "title", "snippet", "rank", title=title, title_justify="left")
    table.columns[3].justify = "right"
    for hit in hits:
        table.add_row(hit.kind, Text(hit.title or ""), _highlighted(hit.snippet), f"{hit.rank:.3g}")
    return table


def _highlighted(snippet: str) -> Text:
    start, stop = HIGHLIGHT
    text = Text()
    for i, part in enumerate(snippet.replace(stop, start).split(start)):
        text.append(part, style="bold" if i % 2 else "")
    return text
