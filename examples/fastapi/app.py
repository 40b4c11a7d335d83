"""A small TaskTracker API: tasks CRUD with keyset paging, a conversation, and health.

Who the caller is comes from the `X-User-Id` header: a stand-in for real authentication
(a session cookie, a bearer token), which an app writes as its own dependency returning the
user's id. Everything else is what a real app would write.

    DATABASE_URL=sqlite:///tasktracker.db tasktracker migrate
    DATABASE_URL=sqlite:///tasktracker.db uvicorn examples.fastapi.app:app
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import FastAPI, Header, HTTPException, Query, status
from pydantic import BaseModel

from tasktracker import AsyncUnit, NotFoundError, Settings
from tasktracker.chat.schemas import (
    ConversationCreate,
    ConversationRead,
    MessageCreate,
    MessageRead,
)
from tasktracker.fastapi import (
    DatabaseDependency,
    database_lifespan,
    health_router,
    install_error_handlers,
    read_only_unit,
    user_unit,
)
from tasktracker.tasks.models import TaskStatus
from tasktracker.tasks.repository import TaskFilter
from tasktracker.tasks.schemas import TaskCreate, TaskRead, TaskUpdate


async def current_user(
    adb: DatabaseDependency, x_user_id: Annotated[uuid.UUID, Header()]
) -> uuid.UUID:
    """The caller's id, from `X-User-Id` (not a UUID: 422); an unknown user is 401."""
    try:
        async with adb.session() as unit:
            await unit.users.get(x_user_id)
    except NotFoundError:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown user") from None
    return x_user_id


Unit = Annotated[AsyncUnit, user_unit(current_user)]
ReadOnlyUnit = Annotated[AsyncUnit, read_only_unit(current_user)]


class TaskPage(BaseModel):
    items: list[TaskRead]
    next_cursor: str | None  # pass it back as `cursor` for the next page; None: the last


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app on `settings` (the environment's when None)."""
    app = FastAPI(title="TaskTracker example", lifespan=database_lifespan(settings))
    install_error_handlers(app)
    app.include_router(health_router())

    @app.post("/tasks", status_code=status.HTTP_201_CREATED)
    async def create_task(unit: Unit, task: TaskCreate) -> TaskRead:
        row = await unit.tasks.create_row(task)
        return TaskRead.model_validate(row._asdict())

    @app.get("/tasks/{task_id}")
    async def get_task(unit: ReadOnlyUnit, task_id: uuid.UUID) -> TaskRead:
        return TaskRead.model_validate((await unit.tasks.read(task_id))._asdict())

    @app.patch("/tasks/{task_id}")
    async def update_task(
        unit: Unit,
        task_id: uuid.UUID,
        changes: TaskUpdate,
        expected_updated_at: datetime | None = None,  # the version read: 409 if it is stale
    ) -> TaskRead:
        task = await unit.tasks.update(task_id, changes, expected_updated_at=expected_updated_at)
        return TaskRead.model_validate(task, from_attributes=True)

    @app.delete("/tasks/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
    async def delete_task(unit: Unit, task_id: uuid.UUID) -> None:
        await unit.tasks.delete(task_id)

    @app.get("/tasks")
    async def list_tasks(
        unit: ReadOnlyUnit,
        task_status: Annotated[list[TaskStatus] | None, Query(alias="status")] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: str | None = None,
    ) -> TaskPage:
        page = await unit.tasks.read_page(
            TaskFilter(status=task_status), limit=limit, cursor=cursor
        )
        items = [TaskRead.model_validate(row._asdict()) for row in page]
        return TaskPage(items=items, next_cursor=page.next_cursor)

    @app.post("/conversations", status_code=status.HTTP_201_CREATED)
    async def start_conversation(unit: Unit, conversation: ConversationCreate) -> ConversationRead:
        started = await unit.conversations.start(conversation)
        return ConversationRead.model_validate(started, from_attributes=True)

    @app.post("/conversations/{conversation_id}/messages", status_code=status.HTTP_201_CREATED)
    async def append_message(
        unit: Unit, conversation_id: uuid.UUID, message: MessageCreate
    ) -> MessageRead:
        appended = await unit.conversations.append(conversation_id, message)
        return MessageRead.model_validate(appended, from_attributes=True)

    @app.get("/conversations/{conversation_id}/messages")
    async def read_messages(unit: ReadOnlyUnit, conversation_id: uuid.UUID) -> list[MessageRead]:
        messages = await unit.conversations.messages(conversation_id)
        return [MessageRead.model_validate(m, from_attributes=True) for m in messages]

    return app


app = create_app()
