"""Job list pages stay O(limit) at 1,000,000 jobs, on SQLite and on PostgreSQL.

One table of a million jobs, laid out so that any walk but the intended index would read
hundreds of thousands of rows before it filled a page:

=====================  =================================================================
seq 1 - 50,000         project A, top level, ``submitted``, in session S (the oldest:
                       ``queued`` finds them only at the far end of the project's jobs)
seq 50,001 - 100,000   project A, top level, ``ready``, in session S
seq 100,001 - 200,000  project A, top level, ``completed``, in session S
seq 200,001 - 400,000  project A, top level, ``completed``; 400,000 is a multi-circuit parent
seq 400,001 - 700,000  project A, the parent's 300,000 children (newer than every top-level job)
seq 700,001 - 1e6      project B, top level, ``completed`` (the newest)
=====================  =================================================================

Each filter shape a client sends is checked on the service's own statement
(``store.jobs.page_query``): SQLite's ``EXPLAIN QUERY PLAN`` searches an index and never
scans the table or sorts it, and the virtual machine steps a page takes (counted with a
progress handler) stay within a small multiple of the page size, for the first page and a
deep one alike; PostgreSQL's ``EXPLAIN (ANALYZE, FORMAT JSON)`` is a Limit over index scans
that read about ``limit`` rows, with no sequential scan and no sort of more than the merged
branches' ``limit`` rows each. A deep page (cursor) takes about as long as the first.
"""

from __future__ import annotations

import re
import sqlite3
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from qharbor.store import jobs as job_store
from qharbor.store import queue
from qharbor.store.db import Database, migrate, open_engine

pytestmark = pytest.mark.timeout(300)

N = 1_000_000
LIMIT = 26  # a page of 25, plus the one that says whether another page exists
PARENT = "job-400000"

# The filter shapes clients send (v0.4, v0.3, sessions, cirq's children), each with a deep
# cursor too. Names as in test ids.
SHAPES: dict[str, dict[str, Any]] = {
    "project": {},
    "project-deep": {"before_seq": 250_000},
    "children": {"parent_id": PARENT},
    "children-deep": {"parent_id": PARENT, "before_seq": 500_000},
    "session": {"session_id": "S"},
    "session-deep": {"session_id": "S", "before_seq": 120_000},
    "completed": {"statuses": ("completed",)},
    "completed-deep": {"statuses": ("completed",), "before_seq": 150_000},
    "ready": {"statuses": ("ready",)},
    "queued": {"statuses": ("submitted", "ready")},
    "queued-deep": {"statuses": ("submitted", "ready"), "before_seq": 60_000},
    "ids": {"ids": ("job-5", "job-150000", "job-399999")},
}
#: What each shape's first row must be (the newest match), so a plan that reads little
#: but finds the wrong rows cannot pass.
FIRST = {"project": 400_000, "project-deep": 249_999, "children": 700_000, "children-deep": 499_999,
         "session": 200_000, "session-deep": 119_999, "completed": 400_000, "completed-deep": 149_999,
         "ready": 100_000, "queued": 100_000, "queued-deep": 59_999, "ids": 399_999}

_COLUMNS = ("seq, id, project_id, submitter_id, parent_id, position, type, backend, session_id, dry_run, shots, "
            "settings, qubits, circuits, gate_counts, status, submitted_at, attempts, debiasing")
_VALUES = f"""
    i, 'job-' || i,
    CASE WHEN i > 700000 THEN 'B' ELSE 'A' END, 'user',
    CASE WHEN i > 400000 AND i <= 700000 THEN '{PARENT}' END,
    CASE WHEN i > 400000 AND i <= 700000 THEN i - 400001 ELSE 0 END,
    CASE WHEN i = 400000 THEN 'ionq.multi-circuit.v1' ELSE 'ionq.circuit.v1' END, 'simulator',
    CASE WHEN i <= 200000 THEN 'S' END, FALSE, 100,
    '{{}}', 2, 1, '{{}}',
    CASE WHEN i <= 50000 THEN 'submitted' WHEN i <= 100000 THEN 'ready' ELSE 'completed' END,
    i, 0, FALSE"""


# The migrated schema's own secondary indexes are dropped for the bulk insert and then created
# again from their stored definitions: building an index once is far faster than a million
# insertions into each.
_SQLITE_INDEXES = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs' AND sql IS NOT NULL"
_PG_INDEXES = ("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'jobs' "
               "AND indexname NOT IN (SELECT conname FROM pg_constraint)")


def _fill_sqlite(path: Path) -> None:
    engine = open_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")
        conn.execute("BEGIN")
        indexes = conn.execute(_SQLITE_INDEXES).fetchall()
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
        conn.execute(f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {N}) "
                     f"INSERT INTO jobs ({_COLUMNS}) SELECT {_VALUES} FROM n")
        for _, sql in indexes:
            conn.execute(sql)
        conn.execute("COMMIT")


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, sqlite3.Connection]]:
    path = tmp_path_factory.mktemp("plans") / "qharbor.db"
    _fill_sqlite(path)
    db = Database(f"sqlite:///{path}")
    yield db, db._raw()
    db.dispose()


def _sqlite_statement(shape: dict[str, Any]) -> tuple[str, list[Any]]:
    stmt, params = job_store.page_query("A", limit=LIMIT, **shape)
    compiled = stmt.compile(dialect=sqlite.dialect())
    given = {**compiled.params, **params}
    return str(compiled), [given[name] for name in compiled.positiontup or ()]


def _vm_steps(conn: sqlite3.Connection, sql: str, values: list[Any]) -> tuple[int, list[Any]]:
    """Virtual machine instructions a query executes (to the nearest 10), and its rows."""
    steps = [0]

    def count() -> int:
        steps[0] += 10
        return 0

    conn.set_progress_handler(count, 10)
    try:
        rows = conn.execute(sql, values).fetchall()
    finally:
        conn.set_progress_handler(None, 10)
    return steps[0], rows


def _median_seconds(fn: Any, runs: int = 31) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@pytest.mark.parametrize("name", SHAPES)
def test_sqlite_page_is_an_index_search(sqlite_db: tuple[Database, sqlite3.Connection], name: str) -> None:
    _, conn = sqlite_db
    sql, values = _sqlite_statement(SHAPES[name])
    plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, values)]
    searches = [line for line in plan if line.startswith(("SEARCH", "SCAN"))]
    assert all(line.startswith("SEARCH jobs USING ") for line in searches if "jobs" in line), plan
    assert not any(line.startswith("SCAN jobs") for line in plan), plan
    if len(SHAPES[name].get("statuses", ())) > 1:
        # Each status's newest LIMIT rows come from its own index range, then merge: the
        # only sorts are of those LIMIT-row branches (and of the ids a query names).
        assert sum(line.startswith("SEARCH jobs USING INDEX jobs_top_status") for line in plan) == 2, plan
    elif "ids" not in SHAPES[name]:
        assert not any("TEMP B-TREE" in line for line in plan), plan
    steps, rows = _vm_steps(conn, sql, values)
    assert rows and rows[0][0] == FIRST[name]
    # About 40 instructions per row read (100 per branch's row where branches merge); any
    # walk past non-matching rows takes millions here (1.5 to 8.6 million with the indexes
    # this table had before migration 0007).
    branches = max(1, len(SHAPES[name].get("statuses", ())))
    assert steps < 150 * LIMIT * branches, (steps, plan)


def test_sqlite_answers_are_kept_until_anything_commits(sqlite_db: tuple[Database, sqlite3.Connection]) -> None:
    db, _ = sqlite_db
    first = job_store.page(db, "A", limit=LIMIT)
    assert job_store.page(db, "A", limit=LIMIT) is first  # nothing committed since: the same answer
    with sqlite3.connect(db.engine.url.database) as other:  # a write by another connection
        other.execute(f"INSERT INTO jobs ({_COLUMNS}) SELECT {_VALUES} FROM (SELECT 1000001 AS i)")
        other.execute("UPDATE jobs SET project_id = 'A' WHERE seq = 1000001")
    try:
        assert job_store.page(db, "A", limit=LIMIT)[0][1] == "job-1000001"
    finally:
        with sqlite3.connect(db.engine.url.database) as other:
            other.execute("DELETE FROM jobs WHERE seq = 1000001")
    assert job_store.page(db, "A", limit=LIMIT) == first


@pytest.mark.parametrize(("first", "deep"), [("project", "project-deep"), ("children", "children-deep"),
                                             ("session", "session-deep"), ("completed", "completed-deep"),
                                             ("queued", "queued-deep")])
def test_sqlite_deep_page_costs_what_the_first_does(sqlite_db: tuple[Database, sqlite3.Connection],
                                                    first: str, deep: str) -> None:
    _, conn = sqlite_db  # the statements themselves (Database.tuples would answer repeats from memory)
    times = {name: _median_seconds(lambda: conn.execute(*_sqlite_statement(SHAPES[name])).fetchall())
             for name in (first, deep)}
    steps = {name: _vm_steps(conn, *_sqlite_statement(SHAPES[name]))[0] for name in (first, deep)}
    assert steps[deep] <= 1.5 * steps[first] + 100, steps
    assert times[deep] <= 3 * times[first] + 200e-6, times  # medians of 31 runs, ~30-100 us each


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="module")
def pg_engine(postgres: Any) -> Iterator[sa.Engine]:
    engine = open_engine(postgres.new_database())
    migrate(engine)
    with engine.begin() as conn:
        indexes = conn.exec_driver_sql(_PG_INDEXES).all()
        for name, _ in indexes:
            conn.exec_driver_sql(f"DROP INDEX {name}")
        conn.exec_driver_sql(f"INSERT INTO jobs ({_COLUMNS}) SELECT {_VALUES} FROM generate_series(1, {N}) AS n(i)")
        conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
        for _, sql in indexes:
            conn.exec_driver_sql(sql)
        conn.exec_driver_sql("ANALYZE jobs")
    yield engine
    engine.dispose()


def _pg_explain(engine: sa.Engine, shape: dict[str, Any], plan: str = "custom") -> dict[str, Any]:
    """``EXPLAIN ANALYZE`` of a page: planned for its values (``custom``), or as a prepared
    statement's ``generic`` plan, which psycopg's automatic preparing can bring about."""
    stmt, params = job_store.page_query("A", limit=LIMIT, dialect="postgresql", **shape)
    compiled = stmt.compile(dialect=postgresql.psycopg.dialect())
    given = {**compiled.params, **params}
    with engine.connect() as conn:
        if plan == "custom":
            return conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + str(compiled), given).scalar()[0]
        names: list[str] = []
        sql = re.sub(r"%\((\w+)\)s", lambda m: f"${_number(names, m.group(1))}", str(compiled))
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        conn.exec_driver_sql(f"PREPARE page AS {sql}")
        try:
            values = ", ".join("'{}'".format(str(given[name]).replace("'", "''")) for name in names)
            return conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE page({values})").scalar()[0]
        finally:
            conn.exec_driver_sql("DEALLOCATE page")


def _number(names: list[str], name: str) -> int:
    if name not in names:
        names.append(name)
    return names.index(name) + 1


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


@pytest.mark.parametrize("plan", ["custom", "generic"])
@pytest.mark.parametrize("name", SHAPES)
def test_postgres_page_is_a_limited_index_scan(pg_engine: sa.Engine, name: str, plan: str) -> None:
    explained = _pg_explain(pg_engine, SHAPES[name], plan)
    root = explained["Plan"]
    assert root["Node Type"] == "Limit", root
    assert root["Actual Rows"] <= LIMIT
    nodes = list(_nodes(root))
    scans = [n for n in nodes if n.get("Relation Name") == "jobs"]
    assert scans and all(n["Node Type"] in ("Index Scan", "Index Only Scan") for n in scans), scans
    for scan in scans:  # rows the scan read: those it returned, and those its filter dropped
        read = scan["Actual Rows"] * scan["Actual Loops"] + scan.get("Rows Removed by Filter", 0)
        assert read <= 2 * LIMIT, (name, scan["Index Name"], read)
    branches = max(1, len(SHAPES[name].get("statuses", ())))
    for sort in (n for n in nodes if n["Node Type"] in ("Sort", "Incremental Sort")):
        assert sort["Actual Rows"] <= branches * LIMIT, sort


@pytest.mark.parametrize(("first", "deep"), [("project", "project-deep"), ("children", "children-deep"),
                                             ("session", "session-deep"), ("queued", "queued-deep")])
def test_postgres_deep_page_costs_what_the_first_does(pg_engine: sa.Engine, first: str, deep: str) -> None:
    times = {name: statistics.median(_pg_explain(pg_engine, SHAPES[name])["Execution Time"] for _ in range(9))
             for name in (first, deep)}  # milliseconds, as PostgreSQL measured them
    assert times[deep] <= 3 * times[first] + 0.3, times


# --------------------------------------------------------------------------- the queue


def test_sqlite_worker_finds_the_oldest_queued_job_at_once(sqlite_db: tuple[Database, sqlite3.Connection]) -> None:
    """A worker's look for work (``queue.any_queued`` and the claim's subquery) reads the
    queue's own index, not every job ever run: 100,000 queued among a million here."""
    _, conn = sqlite_db
    sql = str(queue._WAITING["sqlite"])
    plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
    assert plan == ["SCAN jobs USING INDEX jobs_waiting"], plan
    steps, rows = _vm_steps(conn, sql, [])
    assert [tuple(r) for r in rows] == [(1,)] and steps < 200, steps


def test_postgres_worker_finds_the_oldest_queued_job_at_once(pg_engine: sa.Engine) -> None:
    for stmt in (queue._WAITING["postgresql"], queue._WAITING["postgresql"].with_for_update(skip_locked=True)):
        compiled = stmt.compile(dialect=postgresql.psycopg.dialect(), compile_kwargs={"literal_binds": True})
        with pg_engine.begin() as conn:
            root = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}").scalar()[0]["Plan"]
        scans = [n for n in _nodes(root) if n.get("Relation Name") == "jobs"]
        assert [n.get("Index Name") for n in scans] == ["jobs_waiting"], root
        assert all(n["Actual Rows"] * n["Actual Loops"] + n.get("Rows Removed by Filter", 0) <= 2 for n in scans)
