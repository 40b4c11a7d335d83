"""Labels: unique per user regardless of case, a checked colour, many per task, the label
filters of `TaskFilter` (any of, all of, none) through the listing, counts per label."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select, text

from tasktracker.db.errors import ConflictError, TaskTrackerError, ValidationError
from tasktracker.db.sessions import Database
from tasktracker.tasks.label_repository import MAX_LABELS_PER_CALL, LabelRepository
from tasktracker.tasks.labels import Label, LabelCount, TaskLabel
from tasktracker.tasks.repository import MAX_LABELS_IN_FILTER, TaskFilter, TaskRepository, TaskSort
from tests.tasks.conftest import add_task


def _labels(db: Database, user: uuid.UUID, *names: str) -> list[uuid.UUID]:
    with db.user_scope(user) as session:
        return [LabelRepository(session).create({"name": name}).id for name in names]


def _label(db: Database, user: uuid.UUID, task: uuid.UUID, *labels: uuid.UUID) -> None:
    with db.user_scope(user) as session:
        LabelRepository(session).attach(task, list(labels))


def test_names_are_unique_per_user_regardless_of_case(db: Database, make_user) -> None:
    alice, bob = make_user(), make_user()
    _labels(db, alice, "Éclair")
    _labels(db, bob, "ÉCLAIR")  # another user's may be the same
    with pytest.raises(ConflictError) as caught, db.user_scope(alice) as session:
        LabelRepository(session).create({"name": "éclair"})
    assert caught.value.field == "name"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": " "}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 51}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"name": "ok", "color": "red"}, "color"),
        ({"name": "ok", "color": "#12345G"}, "color"),
        ({"name": 5}, "name"),
    ],
)
def test_bad_labels_are_refused_with_the_field(
    db: Database, make_user, data: dict[str, object], field: str
) -> None:
    user = make_user()
    with db.user_scope(user) as session:
        with pytest.raises(ValidationError) as caught:
            LabelRepository(session).create(data)
        assert field in caught.value.fields
        assert LabelRepository(session).count() == 0


def test_the_colour_check_is_the_databases_too(db: Database, make_user, backend: str) -> None:
    user = make_user()
    key = user.hex if backend == "sqlite" else user
    with pytest.raises(TaskTrackerError), db.session() as session:
        session.execute(
            text("INSERT INTO labels (user_id, id, name, color) VALUES (:u, :i, 'x', '#GGGGGG')"),
            {"u": key, "i": uuid.uuid4().hex if backend == "sqlite" else uuid.uuid4()},
        )


def test_filters_any_all_and_none(db: Database, make_user) -> None:
    user = make_user()
    red, blue, green = _labels(db, user, "red", "blue", "green")
    both = add_task(db, user, title="both")
    only_red = add_task(db, user, title="red only")
    bare = add_task(db, user, title="bare")
    _label(db, user, both, red, blue)
    _label(db, user, only_red, red, red)  # a repeated id counts once
    _label(db, user, both, red)  # attaching again changes nothing
    with db.user_scope(user) as session:
        tasks = TaskRepository(session)

        def titles(filter: TaskFilter) -> set[str]:
            rows = {t.title for t in tasks.read_page(filter, sort=TaskSort.TITLE)}
            assert rows == {t.title for t in tasks.list(filter, sort=TaskSort.TITLE)}
            assert tasks.count(filter) == len(rows)
            return rows

        assert titles(TaskFilter(labels_any=[red])) == {"both", "red only"}
        assert titles(TaskFilter(labels_any=[blue, green])) == {"both"}
        assert titles(TaskFilter(labels_all=[red, blue])) == {"both"}
        assert titles(TaskFilter(labels_all=[red, blue, green])) == set()
        assert titles(TaskFilter(labelled=False)) == {"bare"}
        assert titles(TaskFilter(labelled=True)) == {"both", "red only"}
        assert titles(TaskFilter(labels_any=[])) == {"both", "red only", "bare"}
        assert titles(TaskFilter(labels_any=[uuid.uuid4()])) == set()
        assert titles(TaskFilter(labels_any=[red], labels_all=[blue])) == {"both"}
        assert [label.name for label in LabelRepository(session).of_task(both)] == ["blue", "red"]
    _ = bare


def test_label_filters_page_by_cursor(db: Database, make_user) -> None:
    user = make_user()
    (red,) = _labels(db, user, "red")
    labelled = [add_task(db, user, title=f"t{i:02d}") for i in range(7)]
    add_task(db, user, title="unlabelled")
    with db.user_scope(user) as session:
        for task in labelled:
            LabelRepository(session).attach(task, [red])
    seen, cursor = [], None
    with db.user_scope(user, read_only=True) as session:
        while True:
            page = TaskRepository(session).read_page(
                TaskFilter(labels_any=[red]), sort=TaskSort.NEWEST, limit=3, cursor=cursor
            )
            seen += [row.id for row in page]
            if (cursor := page.next_cursor) is None:
                break
    assert seen == list(reversed(labelled))


def test_bad_filter_values_are_refused_before_any_query() -> None:
    for bad in ({"labels_any": ["not a uuid"]}, {"labels_all": "abc"}, {"labelled": "maybe"}):
        with pytest.raises(ValidationError) as caught:
            TaskFilter(**bad)
        assert {field.split(".")[0] for field in caught.value.fields} == set(bad)
    too_many = [uuid.uuid4() for _ in range(MAX_LABELS_IN_FILTER + 1)]
    with pytest.raises(ValidationError):
        TaskFilter(labels_all=too_many)


def test_another_users_labels_and_tasks_are_no_such(db: Database, make_user) -> None:
    alice, bob = make_user(), make_user()
    (bobs_label,) = _labels(db, bob, "theirs")
    bobs_task = add_task(db, bob)
    (mine,) = _labels(db, alice, "mine")
    my_task = add_task(db, alice)
    with db.user_scope(alice) as session:
        labels = LabelRepository(session)
        with pytest.raises(ValidationError) as caught:
            labels.attach(my_task, [mine, bobs_label])
        assert caught.value.fields == {"label_ids"}
        with pytest.raises(ValidationError) as caught:
            labels.attach(bobs_task, [mine])
        assert caught.value.fields == {"task_id"}
        with pytest.raises(ValidationError):
            labels.attach(my_task, [uuid.uuid4() for _ in range(MAX_LABELS_PER_CALL + 1)])
        assert session.scalar(select(func.count()).select_from(TaskLabel)) == 0
        labels.attach(my_task, [mine])  # the unit goes on
        assert TaskRepository(session).count(TaskFilter(labels_any=[bobs_label])) == 0


def test_counts_per_label_by_name_keyset_paged(db: Database, make_user) -> None:
    user = make_user()
    ids = _labels(db, user, "b", "A", "c", "D")
    for n, label in enumerate(ids):
        for i in range(n):
            _label(db, user, add_task(db, user, title=f"{n}-{i}"), label)
    found, cursor = [], None
    with db.user_scope(user) as session:
        while True:
            page = LabelRepository(session).counts(limit=3, cursor=cursor)
            found += page.items
            if (cursor := page.next_cursor) is None:
                break
    assert [(c.name, c.tasks) for c in found] == [("A", 1), ("b", 0), ("c", 2), ("D", 3)]
    assert all(isinstance(c, LabelCount) for c in found)


def test_deleting_a_label_or_a_task_removes_the_links(db: Database, make_user) -> None:
    user = make_user()
    red, blue = _labels(db, user, "red", "blue")
    task, other = add_task(db, user), add_task(db, user)
    _label(db, user, task, red, blue)
    _label(db, user, other, blue)
    with db.user_scope(user) as session:
        LabelRepository(session).delete(red)
        TaskRepository(session).delete(other)
    with db.user_scope(user) as session:
        assert [label.name for label in LabelRepository(session).of_task(task)] == ["blue"]
        assert session.scalar(select(func.count()).select_from(TaskLabel)) == 1
        assert session.scalar(select(func.count()).select_from(Label)) == 1


def test_replace_and_detach(db: Database, make_user) -> None:
    user = make_user()
    red, blue, green = _labels(db, user, "red", "blue", "green")
    task = add_task(db, user)
    with db.user_scope(user) as session:
        labels = LabelRepository(session)
        labels.attach(task, [red, blue])
        labels.replace(task, [blue, green])
        assert [label.name for label in labels.of_task(task)] == ["blue", "green"]
        labels.detach(task, [green, red])
        assert [label.name for label in labels.of_task(task)] == ["blue"]
        labels.detach(task, [])
        assert len(labels.of_task(task)) == 1


def test_erasing_a_user_erases_their_labels_links_and_subtasks(db: Database, make_user) -> None:
    from tasktracker.accounts.repository import UserRepository
    from tasktracker.tasks.models import Task

    alice, bob = make_user(), make_user()
    for user in (alice, bob):
        (label,) = _labels(db, user, "mine")
        parent = add_task(db, user)
        _label(db, user, add_task(db, user, parent_id=parent), label)
    with db.session() as session:
        UserRepository(session).delete(alice)
    with db.session() as session:
        for model in (Label, TaskLabel, Task):
            owned = select(func.count()).select_from(model).where(model.user_id == alice)
            assert session.scalar(owned) == 0
            kept = select(func.count()).select_from(model).where(model.user_id == bob)
            assert session.scalar(kept) > 0
