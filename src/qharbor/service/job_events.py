"""Changes to a project's jobs as they happen: what ``GET /v0.4/jobs/events`` streams.

A :class:`Follower` remembers the newest top-level job its caller has seen and the status of
each unfinished one. Each :func:`changes` reads two index walks of keys only (the project's
newest jobs, and its unfinished ones: O(page) whatever the table holds, see
``job_store.page_query``) and full rows only of the jobs that are new or changed. Callers look
when another process says something changed (:func:`listen`: a job was queued or finished,
``store/notify.py``) and on a slow tick, which also catches a job that started (no notice is
sent for that) and any lost notice: the database stays the one source of truth.

Deleted jobs (:func:`deleted`) come from the audit log, which records every deletion through
the API (``job.delete``, committed before the delete is answered): a follower keeps the ``seq``
of the last entry it read and each look walks its project's entries after it. Jobs a ``move``
replaces, and jobs retention removes, are not reported (neither is audited as a deletion).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..store import audit as audit_store
from ..store import jobs as job_store
from ..store import notify
from ..store.db import Database
from .jobs import JobRecord
from .keys import Principal

#: Unfinished jobs followed at most (the newest ones); a project with more queued sees the others
#: once they are among the newest this many.
WATCH_MOST = 500
#: New jobs reported per look at most (a burst larger than this between two looks shows its newest).
NEW_MOST = 100
UNFINISHED = ("submitted", "ready", "started")


@dataclass
class Follower:
    """Where one stream stands: the newest top-level job seen (its ``seq``) and the unfinished jobs."""

    who: Principal
    newest: int
    unfinished: dict[str, str] = field(default_factory=dict)  # id -> status
    audited: int = 0  # the seq of the last audit entry read (see deleted)


def _unfinished(db: Database, who: Principal) -> dict[str, str]:
    keys = job_store.page(db, who.project_id, limit=WATCH_MOST, statuses=UNFINISHED)
    return {job_id: status for _, job_id, status in keys}


def follow(db: Database, who: Principal) -> Follower:
    """Start following ``who``'s project from now: only later changes are reported."""
    newest = job_store.page(db, who.project_id, limit=1)
    return Follower(who, newest[0][0] if newest else 0, _unfinished(db, who), audit_store.last_seq(db))


def changes(db: Database, follower: Follower) -> list[JobRecord]:
    """The jobs submitted or changed since the last look, oldest change first."""
    project = follower.who.project_id
    fresh = [key for key in job_store.page(db, project, limit=NEW_MOST) if key[0] > follower.newest]
    now = _unfinished(db, follower.who)
    changed = [job_id for _, job_id, _ in reversed(fresh)]
    seen = set(changed)
    # A job unfinished before that is unfinished no more (finished, or deleted), or changed status.
    for job_id, status in follower.unfinished.items():
        if now.get(job_id) != status and job_id not in seen:
            changed.append(job_id)
            seen.add(job_id)
    changed += now.keys() - follower.unfinished.keys() - seen  # unfinished, but new to us
    if fresh:
        follower.newest = fresh[0][0]
    follower.unfinished = now
    if not changed:
        return []
    rows = {row["id"]: row for row in job_store.by_ids(db, project, changed)}
    found = []
    for job_id in changed:
        row = rows.get(job_id)
        if row is None:  # deleted meanwhile
            continue
        kids = job_store.children(db, job_id) if row["type"] == "ionq.multi-circuit.v1" else None
        found.append(JobRecord(row, kids))
    return found


#: Audit entries read per query while catching up (a look reads on until it has them all).
AUDIT_PAGE = 1000


def deleted(db: Database, follower: Follower) -> list[str]:
    """The ids of the follower's project's jobs deleted since the last look, in order."""
    gone: list[str] = []
    while True:
        entries = audit_store.project_after(db, follower.who.project_id, follower.audited, AUDIT_PAGE)
        gone += [target for _, action, target in entries if action == "job.delete" and target]
        if entries:
            follower.audited = entries[-1][0]
        if len(entries) < AUDIT_PAGE:
            return gone


def listen(db: Database, on_notice: Callable[[], None], tick_s: float) -> Callable[[], None]:
    """Call ``on_notice`` (from a background thread) whenever a job is queued or finishes,
    anywhere on this database; returns the function that stops listening."""
    listeners = [db.listener(notify.QUEUED), db.listener(notify.FINISHED)]
    for listener in listeners:
        notify.in_background(listener, on_notice, tick_s)

    def close() -> None:
        for listener in listeners:
            listener.close()

    return close
