"""Collecting every problem with a request before answering, so one 400 names them all."""

from __future__ import annotations

from typing import Any


class InvalidRequest(Exception):
    """A client mistake: answered 400 with ``validation.keys`` naming each bad item."""

    def __init__(self, problems: list[tuple[str, str]], source: str = "body") -> None:
        self.problems = problems
        self.source = source
        super().__init__("; ".join(f"{key}: {message}" for key, message in problems))

    @property
    def keys(self) -> list[str]:
        return list(dict.fromkeys(key for key, _ in self.problems))


class Problems:
    """An accumulator: ``add`` as you validate, ``raise_if_any`` at the end."""

    def __init__(self, source: str = "body") -> None:
        self.items: list[tuple[str, str]] = []
        self.source = source

    def add(self, key: str, message: str) -> None:
        self.items.append((key, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidRequest(self.items, self.source)


def page_size(raw: Any, default: int, most: int | None, p: Problems, key: str = "limit") -> int:
    """A list's ``limit`` (or another count, named ``key``, such as a ``page``): a digit string
    from the query, or an int from cirq's GET body; ``most`` None: no upper bound.

    Anything else is reported to ``p`` under ``key`` (and the default is returned).
    """
    if raw is None or raw == "":
        return default
    size = raw if isinstance(raw, int) and not isinstance(raw, bool) else (
        int(raw) if isinstance(raw, str) and raw.isdigit() else 0)
    if size < 1 or (most is not None and size > most):
        p.add(key, "must be a positive integer" if most is None else f"must be an integer from 1 to {most}")
        return default
    return size
