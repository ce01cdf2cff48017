"""Emulated QPU systematics: debiasing and sharpening show their real effect (fixed seeds)."""

from __future__ import annotations

import math

import pytest

from qharbor.engine import Circuit, Gate, debias
from qharbor.engine.noise import MODELS
from qharbor.core import characterizations

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


def test_frames_conjugate_the_systematics_as_z_does() -> None:
    """Z·rx(ε)·Z = rx(−ε) on a Z-conjugated qubit; Z⊗I·xx(δ)·Z⊗I = xx(−δ), Z⊗Z leaves it."""
    s, _ = _machine()
    a, b = s.weak_pair
    pair = Circuit(b + 1, (Gate("x", (b,), (a,)),))
    identity = list(range(b + 1))

    def angles(frame: frozenset[int]) -> tuple[float, float, float]:
        noisy, exempt = debias.placed(pair, s, identity, frame)
        inserted = [noisy.gates[i] for i in sorted(exempt)]
        xx = next(g.params[0] for g in inserted if g.name == "xx")
        rx = {g.targets[0]: g.params[0] for g in inserted if g.name == "rx"}
        return xx, rx[a], rx[b]

    plain = (s.weak_angle, s.over_rotation[a], s.over_rotation[b])
    assert angles(frozenset()) == plain
    assert angles(frozenset({a})) == (-plain[0], -plain[1], plain[2])
    assert angles(frozenset({b})) == (-plain[0], plain[1], -plain[2])
    assert angles(frozenset({a, b})) == (plain[0], -plain[1], -plain[2])


def test_variants_pair_up_in_complementary_frames() -> None:
    plan = debias.frames_of(10, 25, seed=3, variants=debias.VARIANTS)
    assert plan == debias.frames_of(10, 25, seed=3, variants=debias.VARIANTS)  # seeded
    maps = [m for m, _ in debias.run(_ghz(10), _machine()[0], 25, 1000, 3, variants=debias.VARIANTS)]
    for v in range(0, debias.VARIANTS, 2):
        assert maps[v] == maps[v + 1]
        assert set(plan[v]).isdisjoint(plan[v + 1]) and set(plan[v]) | set(plan[v + 1]) == set(maps[v])
    assert debias.frames_of(10, 25, seed=3) == [[]]  # not debiased: the plain frame
    assert debias.frames_of(10, 25, seed=3, variants=4, frames=False) == [[]] * 4


def test_frames_cancel_over_rotation_that_reassignment_only_spreads() -> None:
    """rx(π/2) then ten x gates on each of 4 qubits: ideally every bit is a fair coin, but
    each gate's over-rotation tilts it (a first-order effect). Assignment-only variants
    only average 4 physical qubits' tilts; complementary frames cancel them."""
    s, qubits = _machine()
    n = 4
    tilted = Circuit(n, (Gate("rx", tuple(range(n)), (), (math.pi / 2,)), *[Gate("x", tuple(range(n)))] * 10))

    def bias(frames: bool, seed: int) -> float:  # mean |P(bit = 1) − 1/2| over the qubits
        runs = debias.run(tilted, s, qubits, 4000, seed, variants=debias.VARIANTS, frames=frames)
        avg = debias.average([h for _, h in runs])
        return sum(abs(sum(p for k, p in avg.items() if int(k) >> q & 1) - 0.5) for q in range(n)) / n

    for seed in (1, 2):
        assigned, framed = bias(False, seed), bias(True, seed)
        # Sampling noise: |P − 1/2| averages ≈ 0.006 at 4000 shots; the tilts leave ≈ 0.03–0.04.
        assert framed < 0.015 < 0.025 < assigned, (seed, assigned, framed)


def test_frames_leave_runs_without_debiasing_as_they_were() -> None:
    """Bit for bit the histograms from before frames existed (pinned): the default layout
    runs in the plain frame, and ``frames=False`` is the assignment-only debiasing."""
    s, qubits = _machine()
    mixed = Circuit(3, (Gate("rx", (0,), (), (0.3,)), Gate("ry", (1,), (), (1.1,)), Gate("x", (2,), (0,)),
                        Gate("zz", (1, 2), (), (0.4,)), Gate("h", (2,))))
    assert debias.run(mixed, s, qubits, 1000, 7, 3) == [
        ([0, 1, 2], {"0": 353, "1": 7, "2": 121, "3": 3, "4": 359, "5": 15, "6": 138, "7": 4})]
    assert debias.run(mixed, s, qubits, 1000, 7, 3, variants=4, frames=False) == [
        ([5, 4, 23], {"0": 87, "2": 38, "4": 89, "5": 1, "6": 33, "7": 2}),
        ([12, 22, 9], {"0": 97, "1": 3, "2": 42, "4": 80, "5": 3, "6": 25}),
        ([24, 20, 6], {"0": 80, "1": 4, "2": 52, "3": 1, "4": 84, "5": 2, "6": 25, "7": 2}),
        ([8, 10, 6], {"0": 98, "1": 1, "2": 32, "4": 91, "5": 1, "6": 27})]
