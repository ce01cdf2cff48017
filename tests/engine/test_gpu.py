"""The optional GPU path gives the CPU's results to 1e-6 (skipped without a CUDA device)."""

from __future__ import annotations

import numpy as np
import pytest
from test_semantics import random_circuit

from qharbor import engine
from qharbor.engine import Circuit, gpu

pytest.importorskip("cupy")
if not gpu.available():
    pytest.skip("no CUDA device", allow_module_level=True)


@pytest.mark.parametrize("precision", ["double", "single"])
def test_gpu_matches_cpu(precision: str) -> None:
    n = gpu.MIN_QUBITS
    c = Circuit(n, tuple(random_circuit(n, 120, np.random.default_rng(5))))
    assert gpu.usable(n, precision)
    on_gpu = gpu.probabilities(c, None, precision)
    on_cpu = engine.statevector.run(c, None, "double")
    np.testing.assert_allclose(on_gpu, on_cpu[0] ** 2 + on_cpu[1] ** 2, atol=1e-6)


def test_simulate_uses_the_gpu_for_wide_registers() -> None:
    c = Circuit(gpu.MIN_QUBITS, tuple(random_circuit(gpu.MIN_QUBITS, 40, np.random.default_rng(6))))
    np.testing.assert_allclose(engine.simulate(c).sum(), 1.0, atol=1e-9)
