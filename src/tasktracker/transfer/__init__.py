"""A user's data as one JSON document, and back into another user with new ids."""

from tasktracker.transfer.service import export_user, import_user

__all__ = ["export_user", "import_user"]
