"""Job and result queries used by the API: create, read, list, cancel, delete.

All statements are scoped by ``project_id``: a job of another project is
indistinguishable from one that does not exist.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Executable,
    RowMapping,
    Select,
    bindparam,
    delete,
    literal_column,
    select,
    union_all,
    update,
)

from . import notify
from .db import Database
from .schema import jobs, results

FINISHED = ("completed", "failed", "canceled")
QUEUED = ("submitted", "ready")

#: Everything the API shows about a job (the stored program is never read here).
_VIEW = [c for c in jobs.c if c.name not in ("program", "worker_id", "attempts")]


def insert(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert a job and its children in one statement (one transaction with the caller)."""
    conn.execute(jobs.insert(), list(rows))


# The statements clients poll, prepared once (see Database.rows).
_GET = select(*_VIEW).where(jobs.c.id == bindparam("job_id"), jobs.c.project_id == bindparam("project_id"))
_EXISTS = select(jobs.c.seq).where(jobs.c.id == bindparam("job_id"), jobs.c.project_id == bindparam("project_id"))
_FINISHED_SINCE = select(jobs.c.id, jobs.c.completed_at).where(jobs.c.completed_at > bindparam("since"))
_CHILDREN = select(jobs.c.id).where(jobs.c.parent_id == bindparam("parent_id")).order_by(jobs.c.position)
_RESULT = select(results.c.data).where(results.c.job_id == bindparam("job_id"), results.c.kind == bindparam("kind"))
_CHILD_SHAPES = (select(jobs.c.qubits, jobs.c.output).where(jobs.c.parent_id == bindparam("parent_id"))
                 .order_by(jobs.c.position))
_CHILD_RESULTS = (
    select(jobs.c.id, results.c.data)
    .select_from(jobs.outerjoin(results, (results.c.job_id == jobs.c.id) & (results.c.kind == bindparam("kind"))))
    .where(jobs.c.parent_id == bindparam("parent_id"))
    .order_by(jobs.c.position)
)


def get(db: Database, project_id: str, job_id: str) -> Mapping[str, Any] | None:
    found = db.rows(_GET, job_id=job_id, project_id=project_id)
    return found[0] if found else None


def exists(db: Database, project_id: str, job_id: str) -> bool:
    return bool(db.rows(_EXISTS, job_id=job_id, project_id=project_id))


def finished_since(db: Database, since: float) -> list[tuple[str, float]]:
    """Jobs that reached an outcome after ``since`` (UNIX seconds), with when."""
    return [(row["id"], row["completed_at"]) for row in db.rows(_FINISHED_SINCE, since=since)]


def children(db: Database, parent_id: str) -> list[str]:
    """Child job ids in circuit submission order."""
    return [row["id"] for row in db.rows(_CHILDREN, parent_id=parent_id)]


def result(db: Database, job_id: str, kind: str) -> str | None:
    """A stored result document (JSON text)."""
    found = db.rows(_RESULT, job_id=job_id, kind=kind)
    return found[0]["data"] if found else None


def child_shapes(db: Database, parent_id: str) -> list[tuple[int, str | None]]:
    """Each child's qubit count and ``output`` (JSON), in submission order."""
    return [(row["qubits"], row["output"]) for row in db.rows(_CHILD_SHAPES, parent_id=parent_id)]


def child_results(db: Database, parent_id: str, kind: str) -> list[tuple[str, str | None]]:
    """``(child_id, document)`` for every child, in submission order."""
    return [(row["id"], row["data"]) for row in db.rows(_CHILD_RESULTS, parent_id=parent_id, kind=kind)]


def _padded(values: Sequence[str]) -> list[str]:
    """``values`` padded to a power of two with copies of its last item (which leave an ``IN``
    list's meaning unchanged), so a few prepared statements serve every list length."""
    size = 1 << (len(values) - 1).bit_length()
    return [*values, *[values[-1]] * (size - len(values))]


def _one_of(column: ColumnElement[Any], name: str, count: int) -> ColumnElement[bool]:
    """``column IN (:name0, :name1, ...)``: ``count`` plain parameters, preparable once."""
    return column.in_([bindparam(f"{name}{i}") for i in range(count)])


def _unindexed(column: ColumnElement[str]) -> ColumnElement[str]:
    """The same value, as an expression no index serves (``NULL || ''`` stays NULL)."""
    return column.concat(literal_column("''"))


def _numbered(name: str, values: Sequence[Any]) -> dict[str, Any]:
    return {f"{name}{i}": v for i, v in enumerate(values)}


#: Prepared statements built on first use and kept for the process's life (``Database.rows``
#: prepares each once, keyed by the object): per list filter shape, per padded id count.
_PAGES: dict[tuple[Any, ...], Executable] = {}
_BY_IDS: dict[int, Select[Any]] = {}


def page_query(
    project_id: str,
    *,
    limit: int,
    before_seq: int | None = None,
    ids: Sequence[str] = (),
    statuses: Sequence[str] = (),
    backends: Sequence[str] = (),
    parent_id: str | None = None,
    session_id: str | None = None,
    submitter_id: str | None = None,
    dialect: str = "sqlite",
) -> tuple[Executable, dict[str, Any]]:
    """One page of jobs, newest first, as ``(seq, id, status)`` rows: a prepared statement for
    its filter shape (and the ``dialect`` it will run on), and its parameters.

    Only these three columns: turning a row's every column into Python objects costs far
    more than the indexed read itself, so a list reads full rows (:func:`by_ids`) only for
    the jobs whose rendering it does not hold already. ``before_seq`` is the keyset cursor,
    so inserts never shift a page.

    Every shape clients send reads O(limit) rows whatever the table holds
    (``tests/store/test_list_plans.py`` checks the plans at 1,000,000 jobs), because each walks
    the index chosen for it backwards from the cursor (``schema.py``): a project's top-level
    jobs ``jobs_top`` (project, seq), one status ``jobs_top_status`` (project, status, seq), a
    session's jobs ``jobs_top_session`` (session, seq), a parent's ``jobs_children`` (parent,
    seq); several statuses (``queued``) take the newest ``limit`` of each status's range and
    merge them; ``ids`` read each job by its unique id. Other filters (``backends``,
    ``submitter_id``, a status within a session or among children) are checked row by row
    along the walk.

    So that no planner takes another walk, a shape orders by its index's columns. SQLite, which
    has no statistics and guesses ten rows per equality, also gets every other filter column
    as an expression, which no index serves (else it may walk, say, a project's jobs to find
    a few ids). PostgreSQL reads the walked columns as ranges (``c >= :v AND c <= :v``): an
    equality would make its planner drop them from the ordering, and then the primary key,
    filtering row by row, would order the page as well, which its statistics (no notion of
    which rows are the newest) often make it prefer. Its other filters stay plain, for its
    estimates. A B-tree still seeks the cursor after ``>=``/``<=`` keys on PostgreSQL; not on
    SQLite, which keeps equalities.
    """
    ids, backends = _padded(ids) if ids else (), _padded(backends) if backends else ()
    shape = (parent_id is not None, before_seq is not None, len(ids), len(statuses), len(backends),
             session_id is not None, submitter_id is not None, dialect == "postgresql")
    stmt = _PAGES.get(shape)
    if stmt is None:
        stmt = _PAGES[shape] = _page_statement(*shape)
    params: dict[str, Any] = {"project_id": project_id, "limit": limit}
    for name, value in (("parent_id", parent_id), ("before", before_seq), ("session_id", session_id),
                        ("submitter_id", submitter_id)):
        if value is not None:
            params[name] = value
    for name, values in (("id", ids), ("status", statuses), ("backend", backends)):
        if values:
            params.update(_numbered(name, values))
    return stmt, params


def _page_statement(parent: bool, before: bool, ids: int, statuses: int, backends: int, session: bool,
                    submitter: bool, postgres: bool) -> Executable:
    steer: Callable[[Any], Any] = (lambda column: column) if postgres else _unindexed

    def newest(status: str | None) -> Select[Any]:
        given = {jobs.c.project_id: "project_id"}
        if parent:
            given[jobs.c.parent_id] = "parent_id"
        if session:
            given[jobs.c.session_id] = "session_id"
        if status:
            given[jobs.c.status] = status
        if submitter:
            given[jobs.c.submitter_id] = "submitter_id"
        # The index this shape walks, by the columns it holds before seq (see page_query).
        walked = ([] if ids else [jobs.c.parent_id] if parent else [jobs.c.session_id] if session
                  else [jobs.c.project_id, jobs.c.status] if status else [jobs.c.project_id])
        where = []
        for column, name in given.items():
            if column not in walked:
                where.append(steer(column) == bindparam(name))
            elif postgres:
                where += [column >= bindparam(name), column <= bindparam(name)]
            else:
                where.append(column == bindparam(name))
        if not parent:  # the top-level indexes are partial: this very term selects them
            where.append((steer(jobs.c.parent_id) if ids else jobs.c.parent_id).is_(None))
        if before:
            where.append((jobs.c.seq + 0 if ids and not postgres else jobs.c.seq) < bindparam("before"))
        if ids:
            where.append(_one_of(jobs.c.id, "id", ids))
        if backends:
            where.append(_one_of(jobs.c.backend, "backend", backends))
        order = [c.desc() for c in (*walked, jobs.c.seq)]
        keys = select(jobs.c.seq, jobs.c.id, jobs.c.status).where(*where)
        return keys.order_by(*order).limit(bindparam("limit"))

    if statuses <= 1:
        return newest("status0" if statuses else None)
    merged = union_all(*(select(newest(f"status{i}").subquery()) for i in range(statuses))).subquery()
    return select(merged).order_by(merged.c.seq.desc()).limit(bindparam("limit"))


def page(db: Database, project_id: str, **filters: Any) -> list[tuple[int, str, str]]:
    """One page of jobs as ``(seq, id, status)`` (see :func:`page_query`), on the lean read path."""
    stmt, params = page_query(project_id, dialect=db.engine.dialect.name, **filters)
    return db.tuples(stmt, **params)  # type: ignore[return-value]


def by_ids(db: Database, project_id: str, job_ids: Sequence[str]) -> list[Mapping[str, Any]]:
    """The caller's jobs among ``job_ids``, in no particular order, with every column the API shows."""
    if not job_ids:
        return []
    padded = _padded(job_ids)
    stmt = _BY_IDS.get(len(padded))
    if stmt is None:
        stmt = _BY_IDS[len(padded)] = select(*_VIEW).where(
            _one_of(jobs.c.id, "id", len(padded)), _unindexed(jobs.c.project_id) == bindparam("project_id"))
    return db.rows(stmt, project_id=project_id, **_numbered("id", padded))


def source(conn: Connection, project_id: str, job_id: str) -> tuple[RowMapping, list[RowMapping]] | None:
    """A job with its stored programs (its own, or its children's in order, each with its id
    and name), for cloning and for ``GET /jobs/{id}/program``."""
    row = conn.execute(select(jobs).where(jobs.c.id == job_id, jobs.c.project_id == project_id)).mappings().first()
    if row is None:
        return None
    if row["program"] is not None:
        return row, [row]
    kids = select(jobs.c.id, jobs.c.name, jobs.c.program).where(jobs.c.parent_id == job_id).order_by(jobs.c.position)
    return row, list(conn.execute(kids).mappings())


def _owned(conn: Connection, project_id: str, ids: Iterable[str]) -> list[str]:
    stmt = select(jobs.c.id).where(jobs.c.project_id == project_id, jobs.c.id.in_(list(ids)))
    return list(conn.execute(stmt).scalars())


def cancel(conn: Connection, project_id: str, ids: Sequence[str]) -> list[str]:
    """Cancel the caller's unfinished jobs (and their children); returns the ids found.

    Finished jobs are left as they are: cancel is a no-op once a job has an outcome.
    """
    found = _owned(conn, project_id, ids)
    if found:
        now = time.time()
        conn.execute(
            update(jobs)
            .where(
                (jobs.c.id.in_(found) | jobs.c.parent_id.in_(found)),
                jobs.c.status.not_in(FINISHED),
            )
            .values(status="canceled", completed_at=now, worker_id=None)
        )
        notify.notify(conn, notify.FINISHED)  # wakes long polls waiting on these jobs
    return found


def remove(conn: Connection, project_id: str, ids: Sequence[str]) -> list[str]:
    """Delete the caller's jobs, their children and all their results; returns the ids found."""
    found = _owned(conn, project_id, ids)
    if found:
        family = select(jobs.c.id).where(jobs.c.id.in_(found) | jobs.c.parent_id.in_(found))
        every = list(conn.execute(family).scalars())
        conn.execute(delete(results).where(results.c.job_id.in_(every)))
        conn.execute(delete(jobs).where(jobs.c.id.in_(every)))
    return found
