"""Debiasing on the emulated QPUs, measured over many machines (``engine/debias.py``).

IonQ's claim (arXiv:2301.07233, "Enhancing quantum computer performance via
symmetrization"): running a circuit as symmetric variants turns each machine's systematic
(coherent) errors into noise that averages out across variants, and aggregating the
variants by plurality voting ("sharpening") then recovers the right answer more often.

Here each *machine seed* draws a whole machine's systematic errors (per-qubit
over-rotation, per-pair coupling error, per-qubit asymmetric readout; the module doc of
``engine/debias.py`` states the distributions). For every machine seed and circuit family
(GHZ, Bernstein–Vazirani, random mirror) the circuit runs once plain (default layout) and
once debiased (4 variants), and we record

* the probability of the ideal outcome(s): its mean over machines, and its spread (the
  standard deviation across machines) — a systematic error shows as spread;
* whether the sharpened result returns the ideal outcome: with debiasing, the plurality
  vote of the variants (``sharpen=true``); without, the single run's most probable outcome
  (what a plurality of one returns). "Returns" = every outcome tied for the most votes is
  an ideal one.

    python bench/debias.py --machines 50 --shots 1000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from qharbor.core import characterizations
from qharbor.engine import Circuit, Gate, debias
from qharbor.engine.noise import MODELS

BACKEND = "qpu.aria-1"


def ghz(n: int) -> tuple[Circuit, set[int]]:
    return Circuit(n, (Gate("h", (0,)), *(Gate("x", (q + 1,), (q,)) for q in range(n - 1)))), {0, (1 << n) - 1}


def bernstein_vazirani(n: int, secret: int) -> tuple[Circuit, set[int]]:
    """n data qubits and an ancilla (qubit n) returned to |0>: the ideal outcome is ``secret``."""
    gates = [Gate("x", (n,)), Gate("h", tuple(range(n + 1)))]
    gates += [Gate("x", (n,), (q,)) for q in range(n) if secret >> q & 1]
    gates += [Gate("h", tuple(range(n + 1))), Gate("x", (n,))]
    return Circuit(n + 1, tuple(gates)), {secret}


def random_mirror(n: int, layers: int, seed: int) -> tuple[Circuit, set[int]]:
    """Random rotation and cnot layers, then their inverse: ideally |0...0>."""
    rng = np.random.default_rng(seed)
    gates: list[Gate] = []
    for layer in range(layers):
        for q in range(n):
            gates.append(Gate(["rx", "ry", "rz"][rng.integers(3)], (q,), (), (float(rng.uniform(-np.pi, np.pi)),)))
        for q in range(layer % 2, n - 1, 2):
            gates.append(Gate("x", (q + 1,), (q,)))
    inverse = [g._replace(params=(-g.params[0],)) if g.params else g for g in reversed(gates)]
    return Circuit(n, tuple(gates + inverse)), {0}


FAMILIES: dict[str, Callable[[], tuple[Circuit, set[int]]]] = {
    "ghz-10": lambda: ghz(10),
    "bv-10": lambda: bernstein_vazirani(10, 0b1011010110),
    "mirror-6x4": lambda: random_mirror(6, 4, 1),
    "mirror-8x12": lambda: random_mirror(8, 12, 2),
}


def machine(seed: int) -> tuple[debias.Systematics, int]:
    c = characterizations.current(BACKEND)
    assert c is not None
    model = MODELS[BACKEND.removeprefix("qpu.")]
    return debias.systematics(BACKEND, c.qubits, model, 1 - c.fidelity["1q"], 1 - c.fidelity["2q"],
                              c.readout_error, machine_seed=seed), c.qubits


def _returns_ideal(distribution: dict[str, float], ideal: set[int]) -> bool:
    top = max(distribution.values())
    return all(int(k) in ideal for k, p in distribution.items() if p == top)


@dataclass
class Row:
    family: str
    mean: tuple[float, float]  # P(ideal) averaged over machines: plain, debiased
    spread: tuple[float, float]  # its standard deviation across machines
    sharpen: tuple[float, float]  # share of machines where sharpening returns the ideal outcome


def measure(family: str, machines: range, shots: int) -> Row:
    """One family over ``machines`` (machine seeds); the job seed is the machine seed too."""
    circuit, ideal = FAMILIES[family]()
    fidelity: tuple[list[float], list[float]] = ([], [])
    wins: tuple[list[bool], list[bool]] = ([], [])
    for seed in machines:
        s, qubits = machine(seed)
        for mode, variants in enumerate((1, debias.VARIANTS)):
            histograms = [h for _, h in debias.run(circuit, s, qubits, shots, seed, variants=variants)]
            averaged = debias.average(histograms)
            fidelity[mode].append(sum(p for k, p in averaged.items() if int(k) in ideal))
            wins[mode].append(_returns_ideal(debias.sharpen(histograms), ideal))
    return Row(family, (statistics.mean(fidelity[0]), statistics.mean(fidelity[1])),
               (statistics.stdev(fidelity[0]), statistics.stdev(fidelity[1])),
               (sum(wins[0]) / len(wins[0]), sum(wins[1]) / len(wins[1])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, default=50, help="machine seeds 0..N-1")
    parser.add_argument("--shots", type=int, default=1000)
    parser.add_argument("--families", nargs="*", default=list(FAMILIES))
    args = parser.parse_args()
    print(f"{BACKEND}, machine seeds 0..{args.machines - 1}, {args.shots} shots, "
          f"debiased = {debias.VARIANTS} variants")
    print("| circuit | P(ideal) mean plain → debiased | spread across machines (sd) plain → debiased "
          "| of which shot noise | sharpening returns the ideal outcome plain → debiased |")
    print("|---|---|---|---|---|")
    for family in args.families:
        start = time.perf_counter()
        r = measure(family, range(args.machines), args.shots)
        shot_noise = (r.mean[0] * (1 - r.mean[0]) / args.shots) ** 0.5  # the sd of P(ideal) on one machine
        print(f"| {family} | {r.mean[0]:.3f} → {r.mean[1]:.3f} | {r.spread[0]:.3f} → {r.spread[1]:.3f} | "
              f"≈ {shot_noise:.3f} | {r.sharpen[0]:.0%} → {r.sharpen[1]:.0%} |", f"  ({time.perf_counter() - start:.0f} s)",
              file=sys.stdout, flush=True)


if __name__ == "__main__":
    main()
