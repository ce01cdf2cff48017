"""Usage reports (``GET /organizations/{organization_id}/usage``) and a job's cost
(``GET /jobs/{id}/cost``), from what each completed job recorded: its cost in the rate
card's currency and its quantum compute time (``core/pricing.py``).

A report covers the completed top-level jobs of the caller's organization whose completion
falls within ``start_date``–``end_date`` (inclusive, UTC days), per period (``modality``:
daily, ISO weeks from Monday, calendar months; each period's ``from`` is its first day
within the range), with each period's top five groups (``group_by``: job, project or user,
the key that submitted) by amount. An admin key sees the whole organization; a member key
only its own project's jobs (as everywhere else)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

from ..core.problems import Problems
from ..store import costs as cost_store
from ..store.db import Database, reading
from . import costs
from .keys import Principal

GROUPS = ("job", "project", "user")
MODALITIES = ("daily", "weekly", "monthly")
#: The longest range one report covers (about ten years of days).
MAX_DAYS = 3660
TOP_GROUPS = 5


class OrganizationNotFound(Exception):
    def __init__(self, organization_id: str) -> None:
        super().__init__(f"no organization {organization_id!r} for this API key (its organization: see GET /whoami)")


def _date(raw: str | None, name: str, p: Problems) -> date | None:
    if not raw:
        p.add(name, "is required: a date as YYYY-MM-DD")
        return None
    try:
        if not raw.isascii() or len(raw) != 10:
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        p.add(name, "must be a date as YYYY-MM-DD")
        return None


def _period(day: date, modality: str) -> date:
    if modality == "weekly":
        return day - timedelta(days=day.weekday())
    if modality == "monthly":
        return day.replace(day=1)
    return day


def _next(start: date, modality: str) -> date:
    if modality == "weekly":
        return start + timedelta(days=7)
    if modality == "monthly":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def _midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def _rfc3339(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _group(row: Any, group_by: str) -> tuple[str, str]:
    if group_by == "job":
        return row["id"], row["name"] or row["id"]
    if group_by == "project":
        return row["project_id"], row["project_name"] or row["project_id"]
    return row["submitter_id"], row["user_name"] or row["submitter_id"]


def _amount(value: float) -> float:
    return round(value, 9)


def report(db: Database, who: Principal, organization_id: str, query: dict[str, str]) -> dict[str, Any]:
    """The spec's ``Usages``; 400 naming each unusable query parameter, 404 for another organization."""
    p = Problems("query")
    start, end = _date(query.get("start_date"), "start_date", p), _date(query.get("end_date"), "end_date", p)
    group_by, modality = query.get("group_by"), query.get("modality")
    if group_by not in GROUPS:
        p.add("group_by", f"must be one of {', '.join(GROUPS)}")
    if modality not in MODALITIES:
        p.add("modality", f"must be one of {', '.join(MODALITIES)}")
    if start and end and not 0 <= (end - start).days <= MAX_DAYS:
        p.add("end_date", f"must be on or after start_date and at most {MAX_DAYS} days after it")
    p.raise_if_any()
    assert start is not None and end is not None and group_by is not None and modality is not None
    if organization_id != who.organization_id:
        raise OrganizationNotFound(organization_id)
    until = end + timedelta(days=1)
    with reading(db.engine) as conn:
        rows = cost_store.completed(conn, organization_id, _midnight(start), _midnight(until),
                                    None if who.admin else who.project_id)
    unit = costs.card().currency
    periods: dict[date, dict[str, list[Any]]] = {}
    day = _period(start, modality)
    while day <= end:
        periods[day] = {}
        day = _next(day, modality)
    for row in rows:
        done = datetime.fromtimestamp(row["completed_at"], UTC).date()
        group_id, name = _group(row, group_by)
        found = periods[_period(done, modality)].setdefault(group_id, [name, 0, 0.0, 0])
        found[1] += 1
        found[2] += row["cost"] or 0.0
        found[3] += row["quantum_time_us"] or 0
    usage_data = []
    for first in sorted(periods, reverse=True):  # most recent first
        groups = periods[first]
        ranked = sorted(groups.items(), key=lambda g: (-g[1][2], -g[1][3], g[0]))[:TOP_GROUPS]
        amount = _amount(sum(g[2] for g in groups.values()))
        usage_data.append({
            "from": max(first, start).isoformat(),
            "job_count": sum(g[1] for g in groups.values()),
            "amount": amount, "amount_unit": unit, "amounts": [{"amount": amount, "unit": unit}],
            "time_us": sum(g[3] for g in groups.values()),
            "group_usages": [{"group_id": gid, "group_name": name, "job_count": count, "amount": _amount(spent),
                              "amount_unit": unit, "amounts": [{"amount": _amount(spent), "unit": unit}],
                              "time_us": time_us} for gid, (name, count, spent, time_us) in ranked],
        })
    total = _amount(sum(row["cost"] or 0.0 for row in rows))
    return {
        "organization": organization_id, "group_type": group_by, "modality": modality,
        "start_date": start.isoformat(), "end_date": end.isoformat(),
        "usage_from": _rfc3339(start), "usage_to": _rfc3339(until), "usage_unit": unit,
        "amount_total": total, "amount_totals": [{"amount": total, "unit": unit}],
        "job_count": len(rows), "time_us_total": sum(row["quantum_time_us"] or 0 for row in rows),
        "usage_data": usage_data,
    }


def job_cost(row: Any) -> dict[str, Any]:
    """The spec's ``GetJobCostResponse``: ``estimated_cost`` (the rate card's price of the job's
    program, as at submission), and ``cost`` once the job has an outcome (what it recorded;
    nothing for a failed or canceled job or a dry run)."""
    unit = costs.card().currency
    counts = orjson.loads(row["gate_counts"])
    estimated = 0.0 if row["dry_run"] else costs.predicted(row["backend"], row["shots"],
                                                           [(row["qubits"], counts)])[0]
    shown: dict[str, Any] = {"dry_run": bool(row["dry_run"]), "estimated_cost": {"value": estimated, "unit": unit}}
    if row["status"] == "completed":
        shown["cost"] = {"value": row["cost"] or 0.0, "unit": unit}
    elif row["status"] in ("failed", "canceled"):
        shown["cost"] = {"value": 0.0, "unit": unit}
    return shown
