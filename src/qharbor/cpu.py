"""Which vector width numba compiles the kernels for, decided before numba is imported.

On CPUs with AVX-512, LLVM's tuning for most Intel cores prefers 256-bit vectors (wider
ones once lowered the clock); numba inherits that, and the lane kernels, laid out for
sixteen-amplitude chunks, were up to 2.4x slower for it: on the development machine's Intel
host (2 cores, reported as ``rocketlake``) a two-qubit block on 2^18 amplitudes took 78 µs
with the preference and 33 µs without (``bench/tiles.py`` and ``bench/engine.py`` measure
whole circuits). So where the host has AVX-512 and the operator has not chosen a target
(``NUMBA_CPU_NAME`` / ``NUMBA_CPU_FEATURES``), the host's own features are used with
``-prefer-256-bit``. It must run before numba is first imported, so the package runs it on
import (``qharbor/__init__.py``), outside ``engine/`` whose modules import numba.
"""

from __future__ import annotations

import os
import sys


def prefer_wide_vectors() -> None:
    """Set numba's target to this host with 512-bit vectors preferred, where that applies."""
    if "numba" in sys.modules or "NUMBA_CPU_NAME" in os.environ or "NUMBA_CPU_FEATURES" in os.environ:
        return
    try:
        import llvmlite.binding as llvm

        features = llvm.get_host_cpu_features()
        name = llvm.get_host_cpu_name()
    except Exception:  # no llvmlite, or a host it cannot describe: numba's own defaults
        return
    if not features.get("avx512f"):
        return
    os.environ["NUMBA_CPU_NAME"] = name
    os.environ["NUMBA_CPU_FEATURES"] = features.flatten() + ",-prefer-256-bit"
