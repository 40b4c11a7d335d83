"""The example app (examples/fastapi/app.py), end to end over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from examples.fastapi.app import create_app
from tasktracker.db.sessions import Database
from tasktracker.tasks.models import Task
from tests.fastapi.conftest import api_settings, serving

NewUser = Callable[[], uuid.UUID]


@pytest.fixture
async def client(api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(api_settings(api_url))) as client:
        yield client


def as_user(user_id: uuid.UUID) -> dict[str, str]:
    return {"X-User-Id": str(user_id)}


async def test_task_crud_round_trip(
    client: httpx.AsyncClient, new_user: NewUser, api_db: Database
) -> None:
    me = as_user(new_user())
    created = await client.post(
        "/tasks", json={"title": "Write the report", "priority": "high"}, headers=me
    )
    assert created.status_code == 201, created.text
    task = created.json()
    assert (task["title"], task["priority"], task["status"]) == (
        "Write the report",
        "high",
        "pending",
    )

    read = await client.get(f"/tasks/{task['id']}", headers=me)
    assert read.status_code == 200
    assert read.json() == task

    updated = await client.patch(
        f"/tasks/{task['id']}",
        json={"status": "completed"},
        params={"expected_updated_at": task["updated_at"]},
        headers=me,
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["completed"] is True
    assert updated.json()["completed_at"] is not None

    deleted = await client.delete(f"/tasks/{task['id']}", headers=me)
    assert deleted.status_code == 204
    gone = await client.get(f"/tasks/{task['id']}", headers=me)
    assert gone.status_code == 404
    assert gone.json()["error"] == "not_found"
    with api_db.session() as session:  # deleted in the database, not only to this client
        assert session.scalar(select(func.count()).where(Task.id == uuid.UUID(task["id"]))) == 0


async def test_keyset_paging_visits_every_task_once(
    client: httpx.AsyncClient, new_user: NewUser
) -> None:
    me = as_user(new_user())
    titles = {f"task {n:02}" for n in range(23)}
    for title in sorted(titles):
        assert (await client.post("/tasks", json={"title": title}, headers=me)).status_code == 201

    seen: list[str] = []
    pages = 0
    params: dict[str, Any] = {"limit": 5}
    while True:
        page = (await client.get("/tasks", params=params, headers=me)).json()
        pages += 1
        seen += [item["title"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert pages == 5
    assert len(seen) == len(titles)  # no duplicate...
    assert set(seen) == titles  # ...and none missing
    assert seen == sorted(titles, reverse=True)  # newest first


async def test_another_users_task_is_not_found(
    client: httpx.AsyncClient, new_user: NewUser
) -> None:
    owner, other = as_user(new_user()), as_user(new_user())
    task = (await client.post("/tasks", json={"title": "mine"}, headers=owner)).json()
    for method, body in (("GET", None), ("PATCH", {"title": "theirs"}), ("DELETE", None)):
        answer = await client.request(method, f"/tasks/{task['id']}", json=body, headers=other)
        assert answer.status_code == 404, (method, answer.text)
    assert (await client.get("/tasks", headers=other)).json() == {"items": [], "next_cursor": None}
    still = await client.get(f"/tasks/{task['id']}", headers=owner)
    assert still.json()["title"] == "mine"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "a\x00b"}, "title"),
        ({"title": 42}, "title"),
        ({}, "title"),
        ({"title": "ok", "priority": "urgent"}, "priority"),
        ({"title": "ok", "category_id": "not-a-uuid"}, "category_id"),
        ({"title": "ok", "user_id": str(uuid.uuid4())}, "user_id"),  # unknown: refused
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    client: httpx.AsyncClient, new_user: NewUser, body: dict[str, Any], field: str
) -> None:
    me = as_user(new_user())
    answer = await client.post("/tasks", json=body, headers=me)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "validation_error"
    assert [error["field"] for error in answer.json()["fields"]] == [field]
    assert (await client.get("/tasks", headers=me)).json()["items"] == []


async def test_a_category_of_nobody_is_a_422_from_the_data_layer(
    client: httpx.AsyncClient, new_user: NewUser
) -> None:
    answer = await client.post(
        "/tasks",
        json={"title": "ok", "category_id": str(uuid.uuid4())},
        headers=as_user(new_user()),
    )
    assert answer.status_code == 422
    assert answer.json()["fields"] == [{"field": "category_id", "message": "no such category"}]
    assert answer.json()["detail"] == "invalid Task: category_id: no such category"


@pytest.mark.parametrize(
    "title", ["'; DROP TABLE tasks; --", '100% _done_ \\ "quoted"', "Zoë 🚀 ﷽ 日本語", "a\u200bb"]
)
async def test_sql_metacharacters_and_unicode_are_stored_as_given(
    client: httpx.AsyncClient, new_user: NewUser, title: str
) -> None:
    me = as_user(new_user())
    created = await client.post("/tasks", json={"title": title}, headers=me)
    assert created.status_code == 201, created.text
    read = await client.get(f"/tasks/{created.json()['id']}", headers=me)
    assert read.json()["title"] == title


@pytest.mark.parametrize("path", ["/tasks/not-a-uuid", "/tasks/1", "/tasks/' OR 1=1 --"])
async def test_a_malformed_id_is_a_422_naming_it(
    client: httpx.AsyncClient, new_user: NewUser, path: str
) -> None:
    answer = await client.get(path, headers=as_user(new_user()))
    assert answer.status_code == 422
    assert [error["field"] for error in answer.json()["fields"]] == ["task_id"]


async def test_the_caller_header(client: httpx.AsyncClient) -> None:
    missing = await client.get("/tasks")
    assert missing.status_code == 422
    assert [error["field"] for error in missing.json()["fields"]] == ["x-user-id"]
    malformed = await client.get("/tasks", headers={"X-User-Id": "admin' --"})
    assert malformed.status_code == 422
    unknown = await client.get("/tasks", headers=as_user(uuid.uuid4()))
    assert unknown.status_code == 401


async def test_a_stale_update_is_a_409_and_changes_nothing(
    client: httpx.AsyncClient, new_user: NewUser
) -> None:
    me = as_user(new_user())
    task = (await client.post("/tasks", json={"title": "v1"}, headers=me)).json()
    fresh = await client.patch(
        f"/tasks/{task['id']}",
        json={"title": "v2"},
        params={"expected_updated_at": task["updated_at"]},
        headers=me,
    )
    assert fresh.status_code == 200
    stale = await client.patch(
        f"/tasks/{task['id']}",
        json={"title": "v3"},
        params={"expected_updated_at": task["updated_at"]},  # the version before v2
        headers=me,
    )
    assert stale.status_code == 409
    assert stale.json()["error"] == "conflict"
    assert (await client.get(f"/tasks/{task['id']}", headers=me)).json()["title"] == "v2"


async def test_conversation_flow(client: httpx.AsyncClient, new_user: NewUser) -> None:
    me = as_user(new_user())
    started = await client.post("/conversations", json={"title": "Plan my week"}, headers=me)
    assert started.status_code == 201, started.text
    conversation = started.json()["id"]
    for role, content in (("user", "hi"), ("assistant", "hello! 👋"), ("user", "plan it")):
        appended = await client.post(
            f"/conversations/{conversation}/messages",
            json={"role": role, "content": content},
            headers=me,
        )
        assert appended.status_code == 201, appended.text
        assert appended.json()["conversation_id"] == conversation
    messages = (await client.get(f"/conversations/{conversation}/messages", headers=me)).json()
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "hi"),
        ("assistant", "hello! 👋"),
        ("user", "plan it"),
    ]
    blank = await client.post(
        f"/conversations/{conversation}/messages",
        json={"role": "user", "content": " "},
        headers=me,
    )
    assert blank.status_code == 422
    assert [error["field"] for error in blank.json()["fields"]] == ["content"]
    theirs = await client.get(
        f"/conversations/{conversation}/messages", headers=as_user(new_user())
    )
    assert theirs.status_code == 404


async def test_health(client: httpx.AsyncClient, api_backend: str) -> None:
    answer = await client.get("/health")
    assert answer.status_code == 200
    report = answer.json()
    assert report["reachable"] is True
    assert report["backend"] == api_backend
    assert report["up_to_date"] is True
