"""Memoized renderings of finished jobs, as JSON bytes.

A finished job never changes again (deleting it removes its row), so each API view of it
is rendered once and its bytes kept by job id. A memoized rendering is only ever served
for a job a query has just found for the caller (or after the same existence check), so
a deleted job, or another project's, is never shown. Memory is bounded: a memo keeps at
most ``budget`` bytes and drops its oldest entries first.

Entries are added on the event loop only; lookups may also come from the thread pool
(single dictionary operations, atomic under the GIL).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import orjson

from ..service.jobs import FINISHED, JobRecord


class Memo:
    """One view's renderings: ``render(record)`` for a job, memoized once it has finished."""

    def __init__(self, render: Callable[[JobRecord], Any], budget: int) -> None:
        self._render = render
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._budget = budget

    def get(self, job_id: str) -> bytes | None:
        return self._items.get(job_id)

    def rendered(self, record: JobRecord) -> bytes:
        """The job's view as JSON bytes: from the memo once the job has finished."""
        job_id, finished = record.row["id"], record.row["status"] in FINISHED
        if finished and (hit := self._items.get(job_id)) is not None:
            return hit
        data = orjson.dumps(self._render(record))
        if finished:
            self._items[job_id] = data
            self._size += len(data)
            while self._size > self._budget:
                self._size -= len(self._items.popitem(last=False)[1])
        return data

    def holder(self, found: dict[str, bytes]) -> Callable[[list[str]], Collection[str]]:
        """A ``held`` lookup for ``jobs.list_jobs``: which of a page's jobs the memo holds,
        keeping their renderings in ``found``, in page order (so an eviction before the page
        is rendered loses none)."""

        def held(job_ids: list[str]) -> Collection[str]:
            items = self._items
            for job_id in job_ids:
                if (data := items.get(job_id)) is not None:
                    found[job_id] = data
            return found.keys()

        return held

    def entries(self, jobs: Sequence[JobRecord | str], found: Mapping[str, bytes]) -> list[bytes]:
        """A list page's jobs as JSON bytes (an id: its rendering in ``found``)."""
        if len(found) == len(jobs):  # all held: ``found`` has them, in page order
            return list(found.values())
        return [found[job] if isinstance(job, str) else self.rendered(job) for job in jobs]


def page_json(entries: list[bytes], rest: dict[str, Any]) -> bytes:
    """``{"jobs": [entries...], **rest}`` as JSON, the entries spliced in as they are.

    A page is tens of kilobytes: it is copied once, by one join (the head and tail go onto
    the first and last entries), not once per concatenation."""
    tail = orjson.dumps(rest)[1:]  # the keys after "jobs", and the closing brace
    tail = (b"]," if len(tail) > 1 else b"]") + tail
    if not entries:
        return b'{"jobs":[' + tail
    parts = list(entries)
    parts[0] = b'{"jobs":[' + parts[0]
    parts[-1] += tail
    return b",".join(parts)
