"""Cache tiles on and off, and the tile width: ``engine.final_state`` in one process.

    .venv/bin/python bench/tiles.py [--sizes 20 22 24] [--widths 16 17 18 19] [--repeat 3]

For each random-layer and QFT circuit (``bench/circuits.py``) and precision: the median
of ``--repeat`` runs after a warm-up, untiled (``tiles.MIN_QUBITS`` above the width) and
tiled at each tile width (``tiles.TILE_QUBITS``), alternating so that load falls on all
alike. Each run's state is compared with the untiled one (max |Δ| ≤ 1e-5 single, 1e-10
double, else exit 1). Not a test: a measurement for README "Engine speed".
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ["QHARBOR_ENGINE_GPU"] = "off"

import numpy as np
from circuits import qft, random_layers

from qharbor.engine import statevector, tiles


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[20, 22, 24])
    ap.add_argument("--widths", type=int, nargs="+", default=[16, 17, 18, 19])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    min_qubits, widths = tiles.MIN_QUBITS, dict(tiles.TILE_QUBITS)
    print(f"# load {os.getloadavg()[0]:.2f} at start; median of {args.repeat}")
    print("| case | precision | untiled | " + " | ".join(f"tiles {w}" for w in args.widths) + " |")
    print("|---|---|---|" + "---|" * len(args.widths))
    bad = 0
    for n in args.sizes:
        for name, circuit in (("random", random_layers(n)), ("qft", qft(n))):
            for precision in ("single", "double"):
                dtype = np.dtype(statevector.PRECISIONS[precision])
                settings = [None, *args.widths]
                times: dict[int | None, list[float]] = {s: [] for s in settings}
                reference = None
                for rep in range(args.repeat + 1):
                    for s in settings:
                        tiles.MIN_QUBITS = 99 if s is None else min_qubits
                        tiles.TILE_QUBITS[dtype] = widths[dtype] if s is None else s
                        start = time.perf_counter()
                        re, im = statevector.run(circuit, precision=precision)
                        elapsed = time.perf_counter() - start
                        state = re + 1j * im
                        if reference is None:
                            reference = state
                        elif np.max(np.abs(state - reference)) > (1e-5 if precision == "single" else 1e-10):
                            print(f"# DISAGREES: {name}-{n} {precision} tiles {s}", file=sys.stderr)
                            bad += 1
                        if rep:  # the first round is the warm-up
                            times[s].append(elapsed)
                cells = [f"{statistics.median(times[s]):.3f} s" for s in settings]
                print(f"| {name}-{n} | {precision} | " + " | ".join(cells) + " |", flush=True)
    tiles.MIN_QUBITS, tiles.TILE_QUBITS = min_qubits, widths
    print(f"# load {os.getloadavg()[0]:.2f} at end")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
