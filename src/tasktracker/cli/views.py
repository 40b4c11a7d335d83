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
from tasktracker.testspec.repositories.runs import ExecutionRow, RunSummary
from tasktracker.testspec.services.coverage import CoverageReport, Verdict
from tasktracker.testspec.services.junit import JUnitImport
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


_RESULT_STYLE = {"passed": "green", "failed": "bold red", "error": "bold red"}


def _result(results: Mapping[tuple[str, str], str], requirement: str, specification: str) -> str:
    status = results.get((requirement, specification))
    if status is None:
        return ""
    style = _RESULT_STYLE.get(status, "yellow")
    return f" [{style}]{status}[/{style}]"


def traceability_table(
    matrix: TraceabilityMatrix,
    *,
    title: str,
    results: Mapping[tuple[str, str], str] | None = None,
) -> Table:
    """Requirement → verifying specifications, each with its latest result (`results`:
    (requirement key, specification key) → status); uncovered rows and suspect links
    highlighted."""
    results = results or {}
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
            (
                f"{link.specification_key} [yellow](suspect)[/yellow]"
                if link.is_suspect
                else link.specification_key
            )
            + _result(results, requirement.key, link.specification_key)
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


def _styled(status: str) -> str:
    style = _RESULT_STYLE.get(status, "yellow" if status not in {"not_run", "partial"} else "dim")
    return f"[{style}]{status}[/{style}]"


def junit_import_table(report: JUnitImport, *, title: str) -> Table:
    """What an import created, by status."""
    table = Table("status", "executions", title=title, title_justify="left")
    table.columns[1].justify = "right"
    for status, count in sorted(report.created.items()):
        table.add_row(_styled(status.value), f"{count:,}")
    table.add_row("[bold]total[/bold]", f"[bold]{report.total:,}[/bold]")
    return table


def unmatched_line(report: JUnitImport) -> str | None:
    """The cases an import matched to no specification, the first five named."""
    if not report.unmatched:
        return None
    shown = ", ".join(report.unmatched[:5]) + (" ..." if len(report.unmatched) > 5 else "")
    return f"{len(report.unmatched)} case(s) matched no specification: {shown}"


def runs_table(runs: Iterable[RunSummary], *, title: str) -> Table:
    """Runs newest first, their executions counted by status."""
    table = Table("run", "status", "created", "executions", "results", title=title)
    table.title_justify = "left"
    table.columns[3].justify = "right"
    for run in runs:
        results = ", ".join(f"{_styled(s.value)} {n}" for s, n in run.totals.items())
        created = run.created_at.strftime("%Y-%m-%d %H:%M") if run.created_at else ""
        table.add_row(Text(run.name), run.status.value, created, f"{run.executions:,}", results)
    return table


def executions_table(rows: Iterable[ExecutionRow], *, title: str) -> Table:
    """A run's executions; a version older than the specification's latest is flagged."""
    table = Table("specification", "combination", "version", "result", "ms", "message")
    table.title, table.title_justify = title, "left"
    table.columns[4].justify = "right"
    for row in rows:
        version = f"v{row.version}" + (
            f" [yellow](latest v{row.latest_version})[/yellow]" if row.outdated else ""
        )
        message = (row.message or "").splitlines()[0][:80] if row.message else ""
        table.add_row(
            row.key,
            Text(row.combination),
            version,
            _styled(row.status.value),
            "" if row.duration_ms is None else f"{row.duration_ms:,}",
            Text(message),
        )
    return table


def coverage_table(report: CoverageReport, *, title: str) -> Table:
    """Per requirement: its verdict and linked / executed / passed / failed / suspect."""
    table = Table(
        "requirement", "rev", "verdict", "linked", "executed", "passed", "failed", "suspect"
    )
    table.title, table.title_justify = title, "left"
    for column in table.columns[3:]:
        column.justify = "right"
    for requirement in report.requirements:
        verdict = requirement.verdict
        shown = (
            f"[bold red]{verdict.value}[/bold red]"
            if verdict == Verdict.UNCOVERED
            else _styled(verdict.value)
        )
        table.add_row(
            requirement.key,
            str(requirement.revision),
            shown,
            *(
                str(n)
                for n in (
                    requirement.linked,
                    requirement.executed,
                    requirement.passed,
                    requirement.failed,
                    requirement.suspect,
                )
            ),
        )
    totals = ", ".join(f"{v.value} {n}" for v, n in sorted(report.totals.items()))
    table.caption, table.caption_justify = f"{report.total} requirements: {totals}", "left"
    return table
