"""Each lane-kernel shape, and the pair kernel, applies its block exactly as a dense
matrix-vector product.

The lane kernels (``kernels.LANE_KERNELS``) are compiled per shape — which targets
fall inside a sixteen-amplitude chunk and how many lie above it — so every shape is
checked on its own, at both precisions, against a tensor contraction on the state seen
as an n-axis tensor; so is the pair kernel (two targets above the chunk), with its
targets in either order and its runs short and long.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import unitary_group

from qharbor.engine import kernels, statevector

N = 9
#: One target set per shape: (chunk-bit masks, qubits above the chunk).
SHAPES = {((1,), 0): (0,), ((2,), 0): (1,), ((4,), 0): (2,), ((8,), 0): (3,),
          ((1, 2), 0): (1, 0), ((1, 4), 0): (0, 2), ((1, 8), 0): (3, 0), ((2, 4), 0): (2, 1),
          ((2, 8), 0): (1, 3), ((4, 8), 0): (3, 2),
          ((1,), 1): (7, 0), ((2,), 1): (1, 4), ((4,), 1): (2, 8), ((8,), 1): (6, 3),
          ((), 1): (5,)}


def dense(state: np.ndarray, targets: tuple[int, ...], m: np.ndarray) -> np.ndarray:
    """``m`` (big-endian over ``targets``) applied to ``state`` (qubit q = index bit q)."""
    k = len(targets)
    psi = state.reshape((2,) * N)  # axis a is qubit N - 1 - a
    axes = [N - 1 - t for t in targets]
    out = np.tensordot(m.reshape((2,) * (2 * k)), psi, axes=(list(range(k, 2 * k)), axes))
    return np.moveaxis(out, list(range(k)), axes).reshape(-1)


def test_every_shape_is_covered() -> None:
    assert set(SHAPES) == set(kernels.LANE_KERNELS)


@pytest.mark.parametrize("precision, atol", [("double", 1e-12), ("single", 2e-6)])
@pytest.mark.parametrize("shape", sorted(SHAPES, key=str))
def test_lane_kernel_matches_a_dense_product(shape: tuple, precision: str, atol: float) -> None:
    targets = SHAPES[shape]
    rng = np.random.default_rng(len(targets) * 10 + targets[0])
    m = unitary_group.rvs(1 << len(targets), random_state=rng)
    state = rng.standard_normal(1 << N) + 1j * rng.standard_normal(1 << N)
    state /= np.linalg.norm(state)
    dtype = statevector.PRECISIONS[precision]
    re, im = state.real.astype(dtype), state.imag.astype(dtype)
    kernel, *args = kernels.lane_tables(targets, m, dtype)
    assert kernel is kernels.LANE_KERNELS[shape]
    kernel(re, im, *args)
    np.testing.assert_allclose(re + 1j * im, dense(state, targets, m), atol=atol)


@pytest.mark.parametrize("precision, atol", [("double", 1e-12), ("single", 2e-6)])
@pytest.mark.parametrize("targets", [(4, 5), (5, 4), (8, 4), (6, 8), (4, 8)])
def test_pair_kernel_matches_a_dense_product(targets: tuple[int, int], precision: str, atol: float) -> None:
    rng = np.random.default_rng(targets[0] * 10 + targets[1])
    m = unitary_group.rvs(4, random_state=rng)
    state = rng.standard_normal(1 << N) + 1j * rng.standard_normal(1 << N)
    state /= np.linalg.norm(state)
    dtype = statevector.PRECISIONS[precision]
    re, im = state.real.astype(dtype), state.imag.astype(dtype)
    assert kernels.pair_shaped(targets, ()) and not kernels.lane_shaped(targets, ())
    kernels.pair_parallel(re, im, *kernels.pair_tables(targets, m, dtype))
    np.testing.assert_allclose(re + 1j * im, dense(state, targets, m), atol=atol)


@pytest.mark.parametrize("precision", ["double", "single"])
def test_warm_up_leaves_nothing_for_a_job_to_compile(precision: str) -> None:
    """After a worker's warm-up, wide circuits of every kind compile no new kernel variant
    (a variant a job compiles costs it about a second)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
    from circuits import ghz, qft, random_layers

    from qharbor import engine

    engine.warm_up(precision)
    compiled = [kernels.apply_parallel, kernels.diag_parallel, kernels.pair_parallel, kernels.run_encoded, kernels.run_tiles,
                *kernels.LANE_KERNELS.values()]
    before = [len(k.signatures) for k in compiled]
    assert all(before), "warm-up runs every kernel"
    for circuit in (ghz(14), qft(14), random_layers(14), qft(20), random_layers(20)):  # 20: tiled
        engine.simulate(circuit, engine.Limits(precision=precision))
    assert [len(k.signatures) for k in compiled] == before
