"""Small helpers the test-engineering repositories share."""

import uuid
from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from tasktracker.db.errors import ValidationError
from tasktracker.db.tenancy import scope_user_id

T = TypeVar("T")


def require(session: Session, model: type[T], id: uuid.UUID, *, field: str, owner: str) -> T:
    """The user's row `id` of `model`, or a `ValidationError` on `field` of `owner`.

    A friendly error before the composite foreign key would refuse the reference (another
    user's id is "no such" row too: the scope cannot see it).
    """
    obj = session.get(model, (scope_user_id(session), id))
    if obj is None:
        raise ValidationError.single(field, f"no such {model.__name__}", model=owner)
    return obj


def detach_in_session(
    session: Session, member: type[Any], column: str, parent_id: uuid.UUID, relationship: str
) -> None:
    """Mirror a nulling trigger in the identity map: members that pointed at the deleted
    parent now show `column = None`, without being marked as changed."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, member) and getattr(obj, column) == parent_id:
            set_committed_value(obj, column, None)
            if relationship not in inspect(obj).unloaded:
                set_committed_value(obj, relationship, None)
