"""The assistant chat's data through export and import, and the erase of a user: the active
leaf (a reference without a foreign key) is remapped, tool calls and summaries follow."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import func, select

from tasktracker.accounts.repository import UserRepository
from tasktracker.chat.models import Conversation, Message, ToolCall, TurnSummary
from tasktracker.chat.repository import ConversationRepository
from tasktracker.db.sessions import Database
from tasktracker.transfer.service import export_user, import_user


def _assistant_chat(db: Database, user: uuid.UUID) -> uuid.UUID:
    with db.user_scope(user) as session:
        chats = ConversationRepository(session)
        chat = chats.start(
            {
                "title": "t",
                "first_message": {"role": "user", "content": "add"},
                "pinned": True,
                "properties": {"k": [1, 2]},
            }
        )
        call = {"type": "tool_call", "tool_call_id": "c1", "tool_name": "create_task"}
        asked = chats.append(chat.id, {"role": "assistant", "parts": [call]})
        chats.append(
            chat.id,
            {
                "role": "tool",
                "parts": [{"type": "tool_result", "tool_call_id": "c1", "result": {"id": 1}}],
            },
        )
        chats.add_sibling(asked.id, {"role": "assistant", "content": "Regenerated."})
        chats.add_summary(chat.id, {"covers_until_id": chat.messages[0].id, "text": "s"})
        return chat.id


def test_export_import_keeps_branches_tool_calls_and_summaries(db: Database, make_user) -> None:  # type: ignore[no-untyped-def]
    source, target = make_user(), make_user()
    original = _assistant_chat(db, source)
    document = json.loads(json.dumps(export_user(db, source)))
    import_user(db, target, document)
    with db.user_scope(source) as session:
        before = ConversationRepository(session).messages_for_model(original)
    with db.user_scope(target) as session:
        chats = ConversationRepository(session)
        imported = chats.list().items[0].id
        conversation = chats.get(imported)
        assert (conversation.pinned, conversation.properties) == (True, {"k": [1, 2]})
        leaf = chats.message(conversation.active_leaf_id)  # type: ignore[arg-type]
        assert (leaf.content, leaf.conversation_id) == ("Regenerated.", imported)
        assert [m.content for m in chats.active_path(imported)] == ["add", "Regenerated."]
        assert chats.messages_for_model(imported) == before
        call = session.scalars(select(ToolCall)).one()
        assert chats.message(call.result_message_id).role == "tool"  # type: ignore[arg-type]
        assert session.scalar(select(func.count()).select_from(TurnSummary)) == 1


def test_erasing_a_user_erases_their_chat_data(db: Database, make_user) -> None:  # type: ignore[no-untyped-def]
    user, other = make_user(), make_user()
    _assistant_chat(db, user)
    _assistant_chat(db, other)
    with db.session() as session:
        UserRepository(session).delete(user)
    with db.session() as session:
        for model in (Conversation, Message, ToolCall, TurnSummary):
            mine = select(func.count()).select_from(model).where(model.user_id == user)  # type: ignore[attr-defined]
            theirs = select(func.count()).select_from(model).where(model.user_id == other)  # type: ignore[attr-defined]
            assert session.scalar(mine) == 0
            assert (session.scalar(theirs) or 0) > 0
