"""Engine speed against tuned peers: qsim (qsimcirq), qulacs and, optionally, qiskit-aer.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/engine.py [--sizes 20 22 24 26] [--repeat 3] [--small 1000]
                                     [--only qft random small] [--aer]

What is timed, for every simulator alike: from its native circuit (built beforehand) to the
final state vector in its own memory — fusion and any per-call translation included, since
they are part of what a caller pays. Everything the harness does only to compare (bit-order
fixes, converting to one complex array, the agreement check) is outside every timer.

* **qharbor**: ``engine.final_state(circuit, precision=...)`` — the CPU statevector path
  (the GPU path lives behind ``engine.simulate``/``Limits(gpu=True)`` and is never entered;
  ``QHARBOR_ENGINE_GPU=off`` is set as well). Its fusion runs inside the timer.
* **qsim**: ``QSimSimulator(QSimOptions(cpu_threads=T, max_fused_gate_size=f))
  .simulate_into_1d_array(circuit)`` (no cirq result wrapping), on a circuit built on
  reversed qubits (``to_cirq(reverse=True)``) so its vector is indexed like qharbor's; the
  best of f = 2, 3, 4 per case (its tuning knob), chosen by median.
* **qulacs** (double): ``QuantumCircuitOptimizer`` fusion — ``optimize_light`` and
  ``optimize(circuit, 2)``, best per case by median — then ``update_quantum_state`` on a
  fresh ``QuantumState``; the optimizer works in place, so each run gets a fresh copy of the
  circuit made outside the timer and fuses it inside (as qharbor does). Block sizes 3 and 4
  measured 2-3x slower at 22 qubits, so they are not candidates (``--qulacs-blocks``).
  ``get_vector()`` (a copy out of qulacs' memory) is outside the timer.
* **aer** (``--aer``): ``AerSimulator(method="statevector", precision=p)`` with
  ``save_statevector``, all circuits of a case in one ``run()``.

Each (simulator, setting, case) runs ``--repeat`` (>= 3) timed runs after one warm-up run
(below 24 qubits; from 24 the warm-up is the same kind of circuit at 16 qubits, run first
for everyone); the runs go round-robin over the settings (run 1 of each, then run 2, ...)
so that load from other work on a shared machine falls on everyone alike. The table shows
the median and the spread (min-max). Agreement: every
setting's final state is compared, up to a global phase, with qulacs' double-precision
state (an implementation independent of qharbor; qharbor double where qulacs is not run):
max |a e^{i phi} - ref| must be <= 1e-5 for single precision and <= 1e-10 for double, else
the script reports it and exits with status 1.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count()))  # qulacs' OpenMP threads
os.environ["QHARBOR_ENGINE_GPU"] = "off"

import numpy as np
from circuits import cases as bench_cases
from circuits import to_cirq, to_qiskit, to_qulacs

from qharbor import engine
from qharbor.engine import Circuit

THREADS = os.cpu_count() or 1
TOLERANCE = {"single": 1e-5, "double": 1e-10}


@dataclass
class Setting:
    """One way to run a simulator: ``prepare`` (untimed, once per case) gives the native
    circuits; ``fresh`` (untimed, before each run) the input of one run; ``run`` is timed;
    ``states`` (untimed) turns its output into complex vectors indexed like qharbor's."""

    sim: str
    label: str
    precision: str
    prepare: Callable[[list[Circuit]], object]
    run: Callable[[object], object]
    states: Callable[[object], list[np.ndarray]]
    fresh: Callable[[object], object] = lambda native: native


def qharbor(precision: str) -> list[Setting]:
    return [Setting(
        f"qharbor-{precision}", "", precision, lambda cs: cs,
        lambda cs: [engine.final_state(c, precision=precision) for c in cs],
        lambda out: [re + 1j * im for re, im in out])]


def qsim(sizes: tuple[int, ...]) -> list[Setting]:
    import qsimcirq

    def setting(f: int) -> Setting:
        sim = qsimcirq.QSimSimulator(qsimcirq.QSimOptions(cpu_threads=THREADS, max_fused_gate_size=f))
        return Setting("qsim-single", f"f={f}", "single", lambda cs: [to_cirq(c, reverse=True) for c in cs],
                       lambda cs: [sim.simulate_into_1d_array(c)[1] for c in cs], lambda out: out)
    return [setting(f) for f in sizes]


def qulacs(blocks: tuple[str, ...]) -> list[Setting]:
    import qulacs as ql

    def setting(block: str) -> Setting:
        def run(cs: list) -> list:
            out = []
            for qc in cs:
                optimizer = ql.circuit.QuantumCircuitOptimizer()
                if block == "light":
                    optimizer.optimize_light(qc)
                else:
                    optimizer.optimize(qc, int(block))
                state = ql.QuantumState(qc.get_qubit_count())
                qc.update_quantum_state(state)
                out.append(state)
            return out
        return Setting("qulacs-double", block if block == "light" else f"block={block}", "double",
                       lambda cs: [to_qulacs(c) for c in cs], run,
                       lambda out: [s.get_vector() for s in out], lambda cs: [qc.copy() for qc in cs])
    return [setting(b) for b in blocks]


def aer(precision: str) -> list[Setting]:
    from qiskit_aer import AerSimulator

    sim = AerSimulator(method="statevector", precision=precision, max_parallel_threads=THREADS)

    def prepare(cs: list[Circuit]) -> list:
        out = []
        for c in cs:
            qc = to_qiskit(c)
            qc.save_statevector()
            out.append(qc)
        return out
    return [Setting(f"aer-{precision}", "", precision, prepare, lambda cs: sim.run(cs, shots=1).result(),
                    lambda r: [np.asarray(r.data(i)["statevector"]) for i in range(len(r.results))])]


# --- measuring ------------------------------------------------------------------------------

def distance(state: np.ndarray, ref: np.ndarray) -> float:
    """max |state e^{i phi} - ref| over amplitudes, phi aligning the global phases (in chunks,
    so a 26-qubit comparison needs no extra state-sized arrays)."""
    step = 1 << 20
    chunks = range(0, state.size, step)
    overlap = sum(complex(np.vdot(state[i:i + step].astype(np.complex128), ref[i:i + step])) for i in chunks)
    phase = overlap / abs(overlap) if abs(overlap) > 0 else 1.0
    return max(float(np.max(np.abs(state[i:i + step].astype(np.complex128) * phase - ref[i:i + step])))
               for i in chunks)


def measure(settings: list[Setting], circuits: list[Circuit], repeat: int,
            warm: bool) -> tuple[dict[int, list[float]], dict[int, float]]:
    """Times of ``repeat`` runs of every setting (after one warm-up round when ``warm``),
    taken round-robin — run 1 of every setting, then run 2, ... — so that a change of load
    on a shared machine falls on every simulator alike; and each setting's distance from
    the first setting's states (its first run's states, each dropped once compared)."""
    natives = [s.prepare(circuits) for s in settings]
    times: dict[int, list[float]] = {i: [] for i in range(len(settings))}
    errors: dict[int, float] = {}
    reference: list[np.ndarray] | None = None
    for round_ in range(repeat + warm):
        for i, (s, native) in enumerate(zip(settings, natives)):
            arg = s.fresh(native)
            t = time.perf_counter()
            out = s.run(arg)
            elapsed = time.perf_counter() - t
            del arg
            if round_ >= warm:
                times[i].append(elapsed)
            if i not in errors:
                states = s.states(out)
                del out
                if reference is None:
                    reference = states
                errors[i] = max(distance(a, r) for a, r in zip(states, reference))
                del states
            else:
                del out
    return times, errors


def fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def spread(times: list[float]) -> str:
    return f"{fmt(statistics.median(times))} ({fmt(min(times))}–{fmt(max(times))})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[20, 22, 24, 26])
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per case and setting (at least 3)")
    ap.add_argument("--small", type=int, default=1000, help="how many 5-qubit 50-gate circuits")
    ap.add_argument("--only", nargs="*", default=["qft", "random", "small"],
                    help="case name prefixes to run (ghz, qft, random, small)")
    ap.add_argument("--qsim-fuse", type=int, nargs="+", default=[2, 3, 4], help="qsim max_fused_gate_size candidates")
    ap.add_argument("--qulacs-blocks", nargs="+", default=["light", "2"],
                    help="qulacs fusion candidates: 'light' (optimize_light) or a block size (optimize)")
    ap.add_argument("--aer", action="store_true", help="also run qiskit-aer (single and double)")
    args = ap.parse_args()
    if args.repeat < 3:
        ap.error("--repeat must be at least 3")

    import qsimcirq
    import qulacs as ql

    settings = (qulacs(tuple(args.qulacs_blocks)) + qharbor("double") + qharbor("single")
                + qsim(tuple(args.qsim_fuse)) + (aer("double") + aer("single") if args.aer else []))
    sims = list(dict.fromkeys(s.sim for s in settings))
    print(f"# {platform.processor() or platform.machine()}, {THREADS} threads (OMP_NUM_THREADS="
          f"{os.environ['OMP_NUM_THREADS']}), numpy {np.__version__}, qsimcirq {qsimcirq.__version__},"
          f" qulacs {ql.__version__}; load {os.getloadavg()[0]:.2f} at start")
    print(f"# qsim: QSimOptions(cpu_threads={THREADS}, max_fused_gate_size=f), f in {args.qsim_fuse},"
          " simulate_into_1d_array on reversed qubits; best median per case")
    print(f"# qulacs: QuantumCircuitOptimizer {args.qulacs_blocks} ('light' = optimize_light, n ="
          " optimize(circuit, n)) inside the timer, then update_quantum_state; best median per case")
    print("# qharbor: engine.final_state (CPU, GPU off), its fusion inside the timer")
    print(f"# median (min–max) of {args.repeat} runs; agreement: max |Δamplitude| up to global phase vs qulacs"
          " double, bound 1e-5 single / 1e-10 double")

    cases = bench_cases(args.sizes, args.small, args.only)
    # Warm-up: every setting once on each kind of case at 16 qubits (JIT, caches, libraries).
    for name, circuits in bench_cases([16], 20, args.only):
        for s in settings:
            s.states(s.run(s.fresh(s.prepare(circuits))))

    header = ["case"] + sims + ["f32 / qsim", "f64 / qulacs", "max |Δ| (f64, f32, qsim)"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    failures = []
    for name, circuits in cases:
        warm = circuits[0].qubits < 24
        best: dict[str, tuple[float, Setting, list[float]]] = {}
        errors: dict[str, float] = {}
        all_times, all_errors = measure(settings, circuits, args.repeat, warm)
        for i, s in enumerate(settings):
            times, err = all_times[i], all_errors[i]
            errors[s.sim] = max(errors.get(s.sim, 0.0), err)
            if err > TOLERANCE[s.precision]:
                failures.append(f"{name}: {s.sim} {s.label} differs from {settings[0].sim} by {err:.2e}")
            med = statistics.median(times)
            if s.sim not in best or med < best[s.sim][0]:
                best[s.sim] = (med, s, times)
            print(f"#   {name} {s.sim} {s.label}: {spread(times)} max|Δ| {err:.1e}", file=sys.stderr, flush=True)
        cells = [spread(best[sim][2]) + (f" [{best[sim][1].label}]" if best[sim][1].label else "") for sim in sims]
        ratio = [best["qharbor-single"][0] / best["qsim-single"][0], best["qharbor-double"][0] / best["qulacs-double"][0]]
        errs = ", ".join(f"{errors[k]:.0e}" for k in ("qharbor-double", "qharbor-single", "qsim-single"))
        print("| " + " | ".join([name] + cells + [f"{r:.2f}×" for r in ratio] + [errs]) + " |", flush=True)
    print(f"# load {os.getloadavg()[0]:.2f} at end")
    if failures:
        print("DISAGREEMENT:\n" + "\n".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
