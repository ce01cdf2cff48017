"""Emulated QPU systematics: debiasing and sharpening show their real effect (fixed seeds)."""

from __future__ import annotations

import pytest

from qharbor.engine import Circuit, Gate, debias
from qharbor.engine.noise import MODELS
from qharbor.service import characterizations

BACKEND = "qpu.aria-1"


def _machine() -> tuple[debias.Systematics, int]:
    c = characterizations.current(BACKEND)
    assert c is not None
    s = debias.systematics(BACKEND, c.qubits, MODELS["aria-1"], 1 - c.fidelity["1q"], 1 - c.fidelity["2q"],
                           c.readout_error)
    return s, c.qubits


def _ghz(n: int) -> Circuit:
    return Circuit(n, (Gate("h", (0,)), *(Gate("x", (q + 1,), (q,)) for q in range(n - 1))))


def _bernstein_vazirani(secret: int, n: int) -> Circuit:
    """n data qubits and an ancilla (qubit n); the ideal outcome's data bits are ``secret``."""
    gates = [Gate("x", (n,)), Gate("h", tuple(range(n + 1)))]
    gates += [Gate("x", (n,), (q,)) for q in range(n) if secret >> q & 1]
    gates.append(Gate("h", tuple(range(n))))
    return Circuit(n + 1, tuple(gates))


def test_the_defaults_and_limits_follow_ionq() -> None:
    assert debias.enabled(None, 500, native=False) and not debias.enabled(None, 499, native=False)
    assert not debias.enabled(None, 1000, native=True) and debias.enabled(True, 1000, native=True)
    assert not debias.enabled(True, 499, native=False) and not debias.enabled(False, 1000, native=False)
    assert debias.split(1003, 4) == [251, 251, 251, 250]


def test_the_systematics_keep_the_published_error_budget() -> None:
    s, qubits = _machine()
    c = characterizations.current(BACKEND)
    assert c is not None
    mean_coherent = sum(e * e / 6 for e in s.over_rotation) / qubits
    assert mean_coherent == pytest.approx(debias.COHERENT_1Q * (1 - c.fidelity["1q"]))
    assert s.model.r1 == pytest.approx(MODELS["aria-1"].r1 * (1 - debias.COHERENT_1Q))
    assert (s.read_0_as_1 + s.read_1_as_0) / 2 == pytest.approx(c.readout_error)
    assert s.read_1_as_0 > s.read_0_as_1
    assert s.weak_pair[1] == s.weak_pair[0] + 1 < 8


def test_debiasing_improves_ghz10_fidelity() -> None:
    s, qubits = _machine()
    n, shots = 10, 20_000
    ghz = _ghz(n)

    def fidelity(variants: int, seed: int) -> float:
        runs = debias.run(ghz, s, qubits, shots, seed, variants=variants)
        avg = debias.average([h for _, h in runs])
        return avg.get("0", 0.0) + avg.get(str(2**n - 1), 0.0)

    for seed in (1, 2):
        plain, debiased = fidelity(1, seed), fidelity(debias.VARIANTS, seed)
        # Sampling noise on each is ~0.3 %; the weak pair costs the default layout several %.
        assert debiased > plain + 0.02, (seed, plain, debiased)


def test_sharpening_recovers_the_ideal_bernstein_vazirani_outcome() -> None:
    s, qubits = _machine()
    secret, n = 0b101101101, 9
    runs = debias.run(_bernstein_vazirani(secret, n), s, qubits, 2000, 5, variants=debias.VARIANTS)
    data = []
    for _, h in runs:  # the data bits only (the ancilla ends in |->, a coin flip)
        d: dict[str, int] = {}
        for k, c in h.items():
            key = str(int(k) & (2**n - 1))
            d[key] = d.get(key, 0) + c
        data.append(d)
    averaged = debias.average(data)
    assert averaged[str(secret)] < 0.95  # the average keeps the errors' spread
    assert debias.sharpen(data) == {str(secret): 1.0}  # the vote recovers the ideal outcome
