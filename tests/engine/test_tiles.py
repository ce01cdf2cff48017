"""Cache tiles (``engine/tiles.py``): many fused ops per pass over a wide state.

A tiled run must leave exactly the state that gate-by-gate evolution does — checked
against qiskit's ``Statevector`` (an implementation independent of ours) on 20-qubit
circuits whose tiles hold every kind of op a tile program has: lane blocks on every
target shape, diagonals over qubits outside the tile, and wider or controlled blocks.
The grouping itself is checked as a specification: per qubit, ops keep their order.
"""

from __future__ import annotations

import numpy as np
import pytest
from qiskit.quantum_info import Statevector
from reference import circuit as qiskit_circuit

from qharbor.engine import Circuit, Gate, kernels, statevector, tiles
from qharbor.engine.fusion import Diagonal, Op, fuse, gate_ops, group_diagonals

N = 20


def mixed_circuit(n: int, depth: int, seed: int) -> list[Gate]:
    """Rotations and Hadamards, cnots, Toffolis, controlled phases, zz, swaps and a
    three-qubit Pauli exponential, on qubits drawn from the whole register."""
    rng = np.random.default_rng(seed)
    gates: list[Gate] = [Gate("h", (q,)) for q in range(n)]
    for _ in range(depth):
        a, b, c = (int(x) for x in rng.choice(n, 3, replace=False))
        theta = float(rng.uniform(-3, 3))
        gates += [
            [Gate("ry", (a,), (), (theta,)), Gate("rx", (b,), (), (theta / 2,))],
            [Gate("x", (b,), (a,))],
            [Gate("x", (c,), (a, b))],
            [Gate("phase", (b,), (a,), (theta,)), Gate("zz", (a, c), (), (theta,))],
            [Gate("swap", (a, c))],
            [Gate("pauliexp", (a, b, c), (), (theta,), ("XZY", "ZZI"), (0.5, 0.25))],
        ][int(rng.integers(6))]
    return gates


def fused(gates: list[Gate]) -> list[Op | Diagonal]:
    ops = (op for g in gates for op in gate_ops(g))
    return list(fuse(group_diagonals(ops, statevector.FUSE_QUBITS), statevector.FUSE_QUBITS))


@pytest.mark.parametrize("precision, atol", [("double", 1e-10), ("single", 2e-5)])
def test_a_tiled_run_matches_qiskit(precision: str, atol: float) -> None:
    gates = mixed_circuit(N, 120, seed=3)
    steps = list(tiles.plan(fused(gates), N, tiles.TILE_QUBITS[np.dtype(statevector.PRECISIONS[precision])]))
    kinds = {type(op).__name__ if isinstance(op, Diagonal) else "lane" if not op.controls
             and len(op.targets) <= 2 else "general" for step in steps if isinstance(step, tiles.Tile)
             for op in step.ops}
    assert kinds == {"Diagonal", "lane", "general"}, kinds
    assert tiles.usable(N)

    re, im = statevector.run(Circuit(N, tuple(gates)), precision=precision)
    expected = Statevector(qiskit_circuit(N, gates)).data
    np.testing.assert_allclose(re + 1j * im, expected, atol=atol)


def test_every_lane_shape_runs_inside_a_tile() -> None:
    """Each lane shape, with its targets among a tile's low and high local positions."""
    from test_kernels import SHAPES

    targets = [t for shape in SHAPES.values() for t in [shape]]
    rng = np.random.default_rng(5)
    ops = [Op(tuple(t if t < 4 else t + 10 for t in ts), np.linalg.qr(rng.standard_normal((1 << len(ts),) * 2)
              + 1j * rng.standard_normal((1 << len(ts),) * 2))[0]) for ts in targets]
    [tile] = tiles.plan(ops, N, 18)
    assert isinstance(tile, tiles.Tile) and len(tile.ops) == len(ops)
    state = rng.standard_normal(1 << N) + 1j * rng.standard_normal(1 << N)
    state /= np.linalg.norm(state)
    re, im = state.real.copy(), state.imag.copy()
    tiles.run(re, im, tile)
    want_re, want_im = state.real.copy(), state.imag.copy()
    for op in ops:
        kernel, *args = kernels.lane_tables(op.targets, op.matrix, np.float64)
        kernel(want_re, want_im, *args)
    np.testing.assert_allclose(re + 1j * im, want_re + 1j * want_im, atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_grouping_keeps_each_qubits_order_and_tiles_hold_their_ops(seed: int) -> None:
    ops = fused(mixed_circuit(24, 300, seed))
    steps = list(tiles.plan(ops, 24, 16))
    flat = [op for s in steps for op in (s.ops if isinstance(s, tiles.Tile) else [s])]
    assert sorted(map(id, flat)) == sorted(map(id, ops)), "every op exactly once"

    def order(seq: list[Op | Diagonal], q: int) -> list[int]:
        return [id(op) for op in seq if q in tiles._qubits(op)]

    assert all(order(flat, q) == order(ops, q) for q in range(24))
    for s in steps:
        if isinstance(s, tiles.Tile):
            assert len(s.qubits) == 16 and set(range(tiles.RUN_QUBITS)) <= set(s.qubits)
            assert len(s.ops) >= 2
            for op in s.ops:
                assert isinstance(op, Diagonal) or set(op.targets + op.controls) <= set(s.qubits)
    assert sum(isinstance(s, tiles.Tile) for s in steps) < len(ops) / 4, "tiles hold several ops each"
