"""Translating v0.3 requests into the core's (v0.4-shaped) requests, and problems back.

The core validates one request shape (``service.programs.parse_job``); v0.3 differs only
in spelling (ionq-v0.3-notes.md §3, §6, §11; QIR as CUDA-Q sends it, which also sends a
top-level ``qubits`` that is a one-character string and is ignored, as is every key not below):

| v0.3 | core |
|---|---|
| ``target`` (default ``simulator``) | ``backend`` |
| ``input`` (or ``body`` + ``lang: "json"``, cirq-ionq ≤ 1.5), ``format: "ionq.circuit.v0"`` | ``input`` |
| ``input.circuit`` / ``input.circuits`` / ``input`` as a list of circuits | ``type`` single / multi |
| ``input`` with ``format: "qir"`` and ``data`` (CUDA-Q) | ``type: "ionq.qir.v1"`` |
| top-level ``error_mitigation.debias`` | ``settings.error_mitigation.debiasing`` |
| ``registers`` (job and per circuit) | ``registers``: stored as given, echoed by the v0.3 view |
| ``status`` filter ``running`` | ``started`` (the core's one status check, in v0.3's words) |

Every rule is the core's: v0.3 checks only what v0.3 alone has (its program ``format``),
and problems the core finds are reported under the v0.3 key the client sent (``target``,
not ``backend``; ``error_mitigation.debias``, not ``settings.error_mitigation.debiasing``).
"""

from __future__ import annotations

from typing import Any

from ..core import qir
from ..core.problems import InvalidRequest

FORMAT = "ionq.circuit.v0"
#: v0.3's error mitigation keys, as the core's ``settings.error_mitigation`` keys.
_MITIGATION = {"debias": "debiasing"}
#: Words of the core's messages, as v0.3 says them, under the core keys that carry them.
_WORDS = (("backend", "backend", "target"), ("settings.error_mitigation", "debiasing", "debias"))
FORMATS = (FORMAT, qir.V03_FORMAT)


def job_body(body: Any) -> tuple[Any, list[tuple[str, str]], list[tuple[str, str]]]:
    """A v0.3 create body as a core body, plus problems only v0.3 has (its program ``format``),
    plus key renames (core key prefix, v0.3 key prefix) to report the core's problems with."""
    if not isinstance(body, dict):
        return body, [], []  # the core answers "the request body must be a JSON object"
    problems: list[tuple[str, str]] = []
    where = "body" if "input" not in body and "body" in body else "input"
    renames = [("backend", "target"), ("input", where)]
    program = body.get(where)
    if isinstance(program, list):  # the user manual's spelling of a multi-circuit job
        program = {"circuits": program}
        renames.insert(0, ("input.circuits", where))
    multi = False
    job_type = None
    if isinstance(program, dict):
        if program.get("format", FORMAT) not in FORMATS:
            problems.append((f"{where}.format", f"must be one of {', '.join(FORMATS)}"))
        elif program.get("format") == qir.V03_FORMAT:
            job_type = qir.JOB_TYPE
        program = {k: v for k, v in program.items() if k != "format"}
        multi = "circuits" in program

    settings = body.get("settings")
    mitigation = body.get("error_mitigation")
    if mitigation is not None and isinstance(settings or {}, dict):
        # v0.3's top-level error_mitigation is the core's settings.error_mitigation, renamed.
        settings = dict(settings or {})
        if isinstance(mitigation, dict):
            own = settings.get("error_mitigation")
            settings["error_mitigation"] = {**(own if isinstance(own, dict) else {}), **{
                _MITIGATION.get(k, k): v for k, v in mitigation.items() if v is not None}}
            renames += [(f"settings.error_mitigation.{core}", f"error_mitigation.{v03}")
                        for v03, core in _MITIGATION.items()]
        else:
            settings["error_mitigation"] = mitigation
            renames.append(("settings.error_mitigation", "error_mitigation.debias"))
        renames.append(("settings.error_mitigation", "error_mitigation"))

    target = body.get("target")
    core: dict[str, Any] = {
        "type": job_type or ("ionq.multi-circuit.v1" if multi else "ionq.circuit.v1"),
        "backend": "simulator" if target is None else target,
        "input": program,
        "registers": body.get("registers"),
    }
    for key in ("shots", "name", "metadata", "noise"):
        if key in body:
            core[key] = body[key]
    if settings is not None:
        core["settings"] = settings
    return core, problems, renames


def rename(key: str, renames: list[tuple[str, str]]) -> str:
    for old, new in renames:
        if key == old or key.startswith((old + ".", old + "[")):
            return new + key[len(old):]
    return key


def invalid(own: list[tuple[str, str]], core: list[tuple[str, str]], renames: list[tuple[str, str]],
            source: str = "body") -> InvalidRequest:
    """One 400 naming every problem, all under v0.3 keys."""
    translated = []
    for key, message in core:
        for where, word, v03 in _WORDS:
            if key == where or key.startswith(where + "."):
                message = message.replace(word, v03)
        translated.append((rename(key, renames), message))
    return InvalidRequest(own + translated, source)
