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


def test_simulate_uses_the_gpu_for_wide_registers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's own entry point takes the GPU path (the call is counted on its way through,
    the real GPU code still runs), and with the GPU turned off in its limits it does not."""
    calls: list[int] = []
    real = gpu.probabilities

    def counted(*args: object) -> np.ndarray:
        calls.append(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(gpu, "probabilities", counted)
    c = Circuit(gpu.MIN_QUBITS, tuple(random_circuit(gpu.MIN_QUBITS, 40, np.random.default_rng(6))))
    on_gpu = engine.simulate(c)
    assert calls, "the GPU path did not run"
    np.testing.assert_allclose(on_gpu.sum(), 1.0, atol=1e-9)
    calls.clear()
    on_cpu = engine.simulate(c, engine.Limits(gpu=False))
    assert not calls, "the GPU path ran although the limits turned it off"
    np.testing.assert_allclose(on_gpu, on_cpu, atol=1e-6)
