"""Collecting every problem with a request before answering, so one 400 names them all."""

from __future__ import annotations


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
