"""Memoized renderings of finished jobs, as JSON bytes.

A finished job never changes again (deleting it removes its row), so each API view of it
is rendered once and its bytes kept by job id; so is a list page made only of finished
jobs, by their ids (and what follows them). A memoized rendering is only ever served for
jobs a query has just found for the caller (or after the same existence check), so a
deleted job, or another project's, is never shown. Memory is bounded: a memo keeps at
most half its ``budget`` in bytes of jobs, and as much of pages, and drops the oldest first;
the views share ``Settings.render_memo_bytes`` (:func:`renderings`, built with the app).

Entries are added on the event loop only; lookups may also come from the thread pool
(single dictionary operations, atomic under the GIL).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ..service.jobs import FINISHED, JobRecord
from . import views, views_v03


class _Kept:
    """Bytes by key, at most ``budget`` of them in all; the oldest go first."""

    def __init__(self, budget: int) -> None:
        self.items: OrderedDict[Any, bytes] = OrderedDict()
        self._size = 0
        self._budget = budget

    def keep(self, key: Any, data: bytes) -> bytes:
        self.items[key] = data
        self._size += len(data)
        while self._size > self._budget:
            self._size -= len(self.items.popitem(last=False)[1])
        return data


class Memo:
    """One view's renderings: ``render(record)`` for a job, memoized once it has finished;
    and the pages of a list made only of such jobs."""

    def __init__(self, render: Callable[[JobRecord], Any], budget: int) -> None:
        self._render = render
        self._jobs = _Kept(budget // 2)
        self._pages = _Kept(budget // 2)

    def get(self, job_id: str) -> bytes | None:
        return self._jobs.items.get(job_id)

    def rendered(self, record: JobRecord) -> bytes:
        """The job's view as JSON bytes: from the memo once the job has finished."""
        job_id, finished = record.row["id"], record.row["status"] in FINISHED
        if finished and (hit := self._jobs.items.get(job_id)) is not None:
            return hit
        data = orjson.dumps(self._render(record))
        return self._jobs.keep(job_id, data) if finished else data

    def holder(self, found: dict[str, bytes]) -> Callable[[list[str]], Collection[str]]:
        """A ``held`` lookup for ``jobs.list_jobs``: which of a page's jobs the memo holds,
        keeping their renderings in ``found``, in page order (so an eviction before the page
        is rendered loses none)."""

        def held(job_ids: list[str]) -> Collection[str]:
            items = self._jobs.items
            for job_id in job_ids:
                if (data := items.get(job_id)) is not None:
                    found[job_id] = data
            return found.keys()

        return held

    def page(self, jobs: Sequence[JobRecord | str], found: Mapping[str, bytes],
             rest: dict[str, Any]) -> bytes:
        """``{"jobs": [...], **rest}`` (see :func:`page_json`), each job as its memoized bytes
        (an id: its rendering in ``found``).

        A page of held jobs only is a function of their ids and ``rest``, so its bytes are
        kept too: a page read again (a dashboard's first page, a listing paged through again)
        is then sent as it is."""
        if len(found) != len(jobs):
            entries = [found[job] if isinstance(job, str) else self.rendered(job) for job in jobs]
            return page_json(entries, rest)
        key = (*jobs, *rest.items())  # all held: ``found`` has them, in page order
        if (hit := self._pages.items.get(key)) is not None:
            return hit
        return self._pages.keep(key, page_json(list(found.values()), rest))


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


@dataclass(frozen=True)
class Renderings:
    """The memos of one API process, one per view clients re-read."""

    #: ``GET /v0.4/jobs/{id}``: polling clients and dashboards re-read finished jobs far more
    #: often than anything else (served only after checking the job still exists for the caller).
    job: Memo
    #: ``GET /v0.4/jobs`` entries (the spec's ``BaseJob``: no ``child_job_ids``).
    listed: Memo
    #: ``GET /v0.3/jobs`` entries (no ``children``).
    listed_v03: Memo


def renderings(budget: int) -> Renderings:
    """The memos, sharing ``budget`` bytes (``Settings.render_memo_bytes``): 4/7 to job reads,
    2/7 to v0.4 lists, 1/7 to v0.3 lists."""
    return Renderings(
        job=Memo(views.job, budget * 4 // 7),
        listed=Memo(lambda record: views.job(record, detail=False), budget * 2 // 7),
        listed_v03=Memo(lambda record: views_v03.job(record, detail=False), budget // 7),
    )
