"""The noise model is IonQ's published one, and these tests can tell when it is not.

The reference (``noise_reference.py`` beside it) is computed exactly from the notes' parameters
and the documented placement rule, with no qharbor noise code. Each case's histogram from
the engine must pass every event's binomial test (family-wise false-failure rate
``ALPHA`` = 1e-4). :func:`test_every_mutation_is_caught` then breaks the model the ways a
wrong implementation would — rates scaled, channels on the wrong qubits, another rule for
gates on ≥ 3 qubits — and shows the same checks go red for each; the cases are sized so
that each mutation fails with probability ≥ 0.999 (``python tests/engine/noise_reference.py``
prints each mutation's chance per case). :func:`test_jobs_run_under_the_published_model` shows
that jobs submitted over HTTP get the same model.
"""

from __future__ import annotations

import noise_reference as ref
import numpy as np
import pytest
from support import Server, wait_for

from qharbor import engine
from qharbor.engine import noise
from qharbor.engine.noise import MODELS


def test_models_carry_the_published_parameters() -> None:
    for name, (r1, r2) in ref.PUBLISHED.items():
        assert MODELS[name].r1 == pytest.approx(r1, rel=1e-5) and MODELS[name].r2 == pytest.approx(r2, rel=1e-5)


def _run(name: str) -> dict[str, int]:
    case = ref.CASES[name]
    return engine.noisy_counts(case.circuit, case.model, case.shots, seed=case.seed)


@pytest.mark.parametrize("name", sorted(ref.CASES))
def test_histograms_pass_the_published_model(name: str) -> None:
    assert ref.violations(name, _run(name)) == []


def test_the_reference_sees_the_noise() -> None:
    """Each case's noise moves some event far beyond its acceptance region (else a noiseless
    engine would pass)."""
    for name, case in ref.CASES.items():
        ideal = case.exact(case.circuit, r1=0.0, r2=0.0)
        shots = np.round(ideal * case.shots).astype(int)
        shots[int(np.argmax(shots))] += case.shots - int(shots.sum())
        assert ref.violations(name, {str(k): int(c) for k, c in enumerate(shots) if c}), name


#: Cheapest first: a mutation's proof stops at the first case that catches it.
_BY_COST = ["clifford-mirror-16", "clifford-mirror-12", "wide-gates-10", "one-qubit-mirror-10"]


@pytest.mark.parametrize("mutation", list(ref.MUTATIONS))
def test_every_mutation_is_caught(mutation: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's model broken in place (its placement ``noise.sites``, its per-site error
    probability ``noise.error_probability``) fails the same checks."""
    assert sorted(_BY_COST) == sorted(ref.CASES)
    m = ref.MUTATIONS[mutation]
    real_probability = noise.error_probability
    if m.rule:
        monkeypatch.setattr(noise, "sites", m.rule(noise.sites))
    if (m.one, m.two) != (1, 1):
        monkeypatch.setattr(noise, "error_probability", lambda model, qubits: real_probability(model, qubits) * (
            m.one if len(qubits) == 1 else m.two))
    for name in _BY_COST:
        failures = ref.violations(name, _run(name))
        if failures:
            print(f"{mutation}: caught by {name}, {len(failures)} event(s), e.g. {failures[0]}")
            return
    pytest.fail(f"{mutation}: every noise check stayed green")


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_jobs_run_under_the_published_model(server: Server) -> None:
    """Through a real server: a 12-qubit mirror circuit submitted with ``noise.model: aria-1``
    passes the same checks (its stored probabilities are count/shots)."""
    name = "clifford-mirror-12"
    case = ref.CASES[name]
    gates = [{"gate": g.name, "targets": list(g.targets), **({"controls": list(g.controls)} if g.controls else {})}
             for g in case.circuit.gates]
    body = {"type": "ionq.circuit.v1", "backend": "simulator", "shots": case.shots,
            "noise": {"model": "aria-1", "seed": 17},
            "input": {"gateset": "qis", "qubits": case.circuit.qubits, "circuit": gates}}
    with server.client(server.new_key()) as api:
        job = wait_for(api, api.post("/jobs", json=body).json()["id"])
        assert job["status"] == "completed", job
        probabilities = api.get(f"/jobs/{job['id']}/results/probabilities").json()
    counts = {k: round(p * case.shots) for k, p in probabilities.items()}
    assert sum(counts.values()) == case.shots
    assert ref.violations(name, counts) == []
