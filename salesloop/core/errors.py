"""Domain errors that the API and the UI turn into 4xx answers."""

from typing import Any


class Conflict(Exception):
    """A write quoted a stale version; ``current`` is the record as it is now."""

    def __init__(self, current: Any, message: str = "") -> None:
        super().__init__(message or "The record was changed by someone else.")
        self.current = current


class FieldErrors(Exception):
    """Input rejected field by field: ``{"field": ["message", ...]}``."""

    def __init__(self, errors: dict[str, list[str]], message: str = "") -> None:
        super().__init__(message or "Invalid input.")
        self.errors = errors


class Forbidden(Exception):
    """The user may not do this to this record."""
