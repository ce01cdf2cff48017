"""CUDA-Q 0.16 (``cuda-quantum-cu12``, CPU only), unmodified, in its own virtualenv.

Usage: python cudaq_flows.py FLOW BASE_URL KEY; prints one JSON line for the test.
Only the target's URL and ``IONQ_API_KEY`` are configured. CUDA-Q compiles each kernel to
QIR (base64 bitcode) and submits it to v0.3 with ``input.format: "qir"``; its ``sample``
returns counts with qubit 0 as the leftmost character.
"""

from __future__ import annotations

import json
import os
import sys
import warnings

warnings.simplefilter("ignore")  # CUDA-Q announces API changes at import

import cudaq


@cudaq.kernel
def bell() -> None:
    q = cudaq.qvector(2)
    h(q[0])  # noqa: F821 (kernel builtins)
    x.ctrl(q[0], q[1])  # noqa: F821
    mz(q)  # noqa: F821


@cudaq.kernel
def ghz() -> None:
    q = cudaq.qvector(3)
    h(q[0])  # noqa: F821
    x.ctrl(q[0], q[1])  # noqa: F821
    x.ctrl(q[1], q[2])  # noqa: F821
    mz(q)  # noqa: F821


@cudaq.kernel
def flips() -> None:
    q = cudaq.qvector(3)
    x(q[0])  # noqa: F821
    x(q[2])  # noqa: F821
    rx(0.0, q[1])  # noqa: F821
    mz(q)  # noqa: F821


def counts(kernel: object, shots: int) -> dict[str, int]:
    return {k: int(v) for k, v in cudaq.sample(kernel, shots_count=shots).items()}


def main(flow: str, url: str, key: str) -> dict:
    os.environ["IONQ_API_KEY"] = key
    if flow == "simulator":
        cudaq.set_target("ionq", url=url, qpu="simulator")
        return {"bell": counts(bell, 1000), "ghz": counts(ghz, 500), "flips": counts(flips, 100)}
    if flow == "noisy":
        cudaq.set_target("ionq", url=url, qpu="simulator", noise="aria-1")
        return {"bell": counts(bell, 1000)}
    if flow == "qpu":
        cudaq.set_target("ionq", url=url, qpu="qpu.aria-1")
        return {"ghz": counts(ghz, 1000)}
    raise SystemExit(f"unknown flow {flow}")


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
