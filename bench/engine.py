"""Engine speed against the anchors qsim (qsimcirq), qulacs and qiskit-aer.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/engine.py [--sizes 16 20 24 26] [--repeat 3] [--small 1000]

Every simulator runs the same seeded circuits, built beforehand in its own native
form; the timed part is simulation to the final state plus the probabilities
(|amplitude|^2). Each case reports the best of ``--repeat`` runs after one warm-up
(so compilation and caches are excluded for everyone). Precision: qsim always uses
single precision (complex64), qulacs double; qharbor and qiskit-aer run both.
Agreement with qharbor double is checked on every case (max |Δp|).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from collections.abc import Callable

os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count()))  # qulacs' OpenMP threads

import numpy as np
from circuits import cases as bench_cases
from circuits import to_cirq, to_qiskit

from qharbor import engine
from qharbor.engine import Circuit

THREADS = os.cpu_count() or 1


# --- simulators: each is (prepare: circuits -> native, run: native -> list of probs) ---

Runner = tuple[Callable[[list[Circuit]], object], Callable[[object], list[np.ndarray]]]


def qharbor(precision: str) -> Runner:
    return (lambda cs: cs), (lambda cs: [engine.simulate(c, engine.Limits(precision=precision, gpu=False)) for c in cs])


def qsim() -> Runner:
    import qsimcirq

    sim = qsimcirq.QSimSimulator(qsimcirq.QSimOptions(cpu_threads=THREADS))
    # cirq orders qubit 0 as the most significant bit; reverse the axes to compare.
    def run(cs: list) -> list[np.ndarray]:
        out = []
        for c in cs:
            v = sim.simulate(c[0]).final_state_vector
            p = np.abs(v) ** 2
            out.append(p.reshape((2,) * c[1]).transpose().reshape(-1))
        return out
    return (lambda cs: [(to_cirq(c), c.qubits) for c in cs]), run


def qulacs() -> Runner:
    import qulacs as ql
    from qulacs.gate import DenseMatrix

    def convert(c: Circuit) -> ql.QuantumCircuit:
        qc = ql.QuantumCircuit(c.qubits)
        for g in c.gates:
            t = g.targets[0]
            if g.name == "x" and g.controls:
                qc.add_CNOT_gate(g.controls[0], t)
            elif g.name == "phase":
                gate = DenseMatrix(t, np.diag([1, np.exp(1j * g.params[0])]))
                gate.add_control_qubit(g.controls[0], 1)
                qc.add_gate(gate)
            elif g.name == "h":
                qc.add_H_gate(t)
            else:  # qulacs' add_RX_gate(q, a) is exp(+i a X / 2): the opposite sign
                getattr(qc, f"add_{g.name.upper()}_gate")(t, -g.params[0])
        return qc

    def run(cs: list) -> list[np.ndarray]:
        out = []
        for qc, n in cs:
            state = ql.QuantumState(n)
            qc.update_quantum_state(state)
            out.append(np.abs(state.get_vector()) ** 2)
        return out
    return (lambda cs: [(convert(c), c.qubits) for c in cs]), run


def aer(precision: str) -> Runner:
    from qiskit import QuantumCircuit
    from qiskit_aer import AerSimulator

    sim = AerSimulator(method="statevector", precision=precision, max_parallel_threads=THREADS)

    def convert(c: Circuit) -> QuantumCircuit:
        qc = to_qiskit(c)
        qc.save_probabilities()
        return qc

    def run(cs: list) -> list[np.ndarray]:  # one run() for the batch: Aer's best case
        result = sim.run(cs, shots=1).result()
        return [np.asarray(result.data(i)["probabilities"]) for i in range(len(cs))]
    return (lambda cs: [convert(c) for c in cs]), run


# --- timing -----------------------------------------------------------------------------

def best_time(runner: Runner, circuits: list[Circuit], repeat: int) -> tuple[float, list[np.ndarray]]:
    prepare, run = runner
    native = prepare(circuits)
    probs = run(native)  # warm-up: JIT compilation, caches
    best = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        run(native)
        best = min(best, time.perf_counter() - t)
    return best, probs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[16, 20, 24, 26])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--small", type=int, default=1000, help="how many 5-qubit 50-gate circuits")
    ap.add_argument("--only", nargs="*", help="case name prefixes to run (ghz, qft, random, small)")
    args = ap.parse_args()

    cases = bench_cases(args.sizes, args.small, args.only)
    sims: dict[str, Runner] = {
        "qharbor-f64": qharbor("double"), "qharbor-f32": qharbor("single"),
        "qsim-f32": qsim(), "qulacs-f64": qulacs(), "aer-f32": aer("single"), "aer-f64": aer("double"),
    }
    print(f"# {platform.processor() or platform.machine()}, {THREADS} threads, numpy {np.__version__}")
    header = ["case"] + list(sims) + ["f32/qsim", "f64/qulacs", "f64/aer-f64", "max|Δp|"]
    print(" | ".join(header))
    for name, circuits in cases:
        repeat = max(1, args.repeat - 1) if circuits[0].qubits >= 24 else args.repeat
        times, reference, worst = {}, None, 0.0
        for label, runner in sims.items():
            times[label], probs = best_time(runner, circuits, repeat)
            if reference is None and label == "qharbor-f64":
                reference = probs
            if reference is not None:
                worst = max(worst, max(float(np.max(np.abs(p - r))) for p, r in zip(probs, reference)))
        ratios = [times["qharbor-f32"] / times["qsim-f32"], times["qharbor-f64"] / times["qulacs-f64"],
                  times["qharbor-f64"] / times["aer-f64"]]
        row = [name] + [f"{t:.4f}s" for t in times.values()] + [f"{r:.2f}x" for r in ratios] + [f"{worst:.1e}"]
        print(" | ".join(row), flush=True)


if __name__ == "__main__":
    main()
