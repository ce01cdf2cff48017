"""Emulated QPU systematics: debiasing and sharpening show their real effect (fixed seeds)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from qharbor.core import characterizations
from qharbor.engine import Circuit, Gate, debias
from qharbor.engine.noise import MODELS

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
import debias as bench_debias

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
    pairs = s.coupling[np.triu_indices(qubits, 1)]
    assert np.count_nonzero(pairs) == qubits * (qubits - 1) // 2  # every pair, none singled out
    assert np.allclose(s.coupling, s.coupling.T) and not np.diag(s.coupling).any()
    assert float(np.mean(pairs**2 / 5)) == pytest.approx(debias.COHERENT_2Q * (1 - c.fidelity["2q"]))
    assert s.model.r1 == pytest.approx(MODELS["aria-1"].r1 * (1 - debias.COHERENT_1Q))
    assert s.model.r2 == pytest.approx(MODELS["aria-1"].r2 * (1 - debias.COHERENT_2Q))
    assert (np.mean(s.read_0_as_1) + np.mean(s.read_1_as_0)) / 2 == pytest.approx(c.readout_error)
    assert np.mean(s.read_1_as_0) == pytest.approx(3 * np.mean(s.read_0_as_1))
    assert len(set(s.read_1_as_0)) == qubits  # per qubit


def test_machines_are_fixed_per_backend_and_machine_seed() -> None:
    c = characterizations.current(BACKEND)
    assert c is not None

    def draw(backend: str, seed: int) -> debias.Systematics:
        return debias.systematics(backend, c.qubits, MODELS["aria-1"], 1e-3, 1e-2, 4e-3, machine_seed=seed)

    assert draw(BACKEND, 3).over_rotation == draw(BACKEND, 3).over_rotation
    assert np.array_equal(draw(BACKEND, 3).coupling, draw(BACKEND, 3).coupling)
    assert draw(BACKEND, 3).over_rotation != draw(BACKEND, 4).over_rotation
    assert draw(BACKEND, 3).over_rotation != draw("qpu.aria-2", 3).over_rotation
    default = debias.systematics(BACKEND, c.qubits, MODELS["aria-1"], 1e-3, 1e-2, 4e-3)  # the service's machine
    assert default.over_rotation == draw(BACKEND, debias.MACHINE_SEED).over_rotation


def test_debiasing_narrows_the_spread_across_machines() -> None:
    """The README's measured effect, on fewer machines (bench/debias.py measures 50): a random
    mirror circuit's probability of returning to |0...0> varies across machines, because each
    machine's coherent errors add up differently; debiasing's variants average them out, so
    its spread shrinks (0.114 → 0.049 over 50 machines), while the mean barely moves. With
    no effect, the ratio of the two standard deviations would be ≈ 1 (± 0.2 at 20 machines)."""
    row = bench_debias.measure("mirror-6x4", range(100, 120), 1000)
    assert row.spread[1] < 0.7 * row.spread[0], row
    assert abs(row.mean[1] - row.mean[0]) < 0.05, row


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
    a, b = 2, 5
    pair = Circuit(b + 1, (Gate("x", (b,), (a,)),))
    identity = list(range(b + 1))

    def angles(frame: frozenset[int]) -> tuple[float, float, float]:
        noisy, exempt = debias.placed(pair, s, identity, frame)
        inserted = [noisy.gates[i] for i in sorted(exempt)]
        xx = next(g.params[0] for g in inserted if g.name == "xx")
        rx = {g.targets[0]: g.params[0] for g in inserted if g.name == "rx"}
        return xx, rx[a], rx[b]

    plain = (float(s.coupling[a, b]), s.over_rotation[a], s.over_rotation[b])
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
        assert framed < 0.015 and assigned > 0.025, (seed, assigned, framed)
