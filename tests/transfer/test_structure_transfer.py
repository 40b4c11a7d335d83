"""Subtasks and labels through export and import: the tree and the labels are wired the
same way in the copy; an imported tree deeper than the limit, or a loop, is refused by row
and nothing is written."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tasktracker.db.errors import ValidationError
from tasktracker.db.sessions import Database
from tasktracker.db.settings import get_settings
from tasktracker.tasks.label_repository import LabelRepository
from tasktracker.tasks.repository import TaskFilter, TaskRepository
from tasktracker.transfer.service import export_user, import_user


def _structured(db: Database, user: uuid.UUID) -> None:
    with db.user_scope(user) as session:
        tasks, labels = TaskRepository(session), LabelRepository(session)
        root = tasks.create({"title": "root"}).id
        child = tasks.create({"title": "child", "parent_id": root}).id
        tasks.create({"title": "grandchild", "parent_id": child, "status": "completed"})
        urgent = labels.create({"name": "Urgent ✓", "color": "#DC2626"}).id
        labels.attach(child, [urgent])


def _tree(db: Database, user: uuid.UUID) -> list[tuple[str, int, list[str]]]:
    with db.user_scope(user) as session:
        tasks, labels = TaskRepository(session), LabelRepository(session)
        (root,) = tasks.read_page(TaskFilter(top_level=True)).items
        return [
            (node.task.title, node.depth, [label.name for label in labels.of_task(node.task.id)])
            for node in tasks.tree(root.id)
        ]


def test_export_import_keeps_the_tree_and_the_labels(db: Database, make_user) -> None:  # type: ignore[no-untyped-def]
    source, target = make_user(), make_user()
    _structured(db, source)
    counts = import_user(db, target, json.loads(json.dumps(export_user(db, source))))
    assert (counts["tasks"], counts["labels"], counts["task_labels"]) == (3, 1, 1)
    assert (
        _tree(db, target)
        == _tree(db, source)
        == [
            ("root", 0, []),
            ("child", 1, ["Urgent ✓"]),
            ("grandchild", 2, []),
        ]
    )


def _tasks(document: dict[str, Any]) -> list[dict[str, Any]]:
    return document["tables"]["tasks"]  # type: ignore[no-any-return]


def test_a_tree_deeper_than_the_limit_is_refused_by_row(db: Database, make_user) -> None:  # type: ignore[no-untyped-def]
    source, target = make_user(), make_user()
    _structured(db, source)
    document = json.loads(json.dumps(export_user(db, source)))
    rows = _tasks(document)
    template, limit = rows[-1], get_settings().task_max_depth
    parent = template["id"]
    for n in range(limit - 2):  # the grandchild is level 3: this makes it limit + 1
        extra = {**template, "id": str(uuid.uuid4()), "title": f"deeper {n}", "parent_id": parent}
        extra["status"], extra["completed_at"] = "pending", None
        rows.append(extra)
        parent = extra["id"]
    with pytest.raises(ValidationError) as caught:
        import_user(db, target, document)
    assert caught.value.fields == {f"tables.tasks[{len(rows) - 1}].parent_id"}
    with db.user_scope(target) as session:
        assert TaskRepository(session).count() == 0


def test_an_imported_loop_is_refused(db: Database, make_user) -> None:  # type: ignore[no-untyped-def]
    source, target = make_user(), make_user()
    _structured(db, source)
    document = json.loads(json.dumps(export_user(db, source)))
    root = next(row for row in _tasks(document) if row["parent_id"] is None)
    leaf = next(row for row in _tasks(document) if row["title"] == "grandchild")
    root["parent_id"] = leaf["id"]
    with pytest.raises(ValidationError):
        import_user(db, target, document)
    with db.user_scope(target) as session:
        assert TaskRepository(session).count() == 0
