"""One pool of threads that each run numba's parallel kernels on one numba thread.

Work that splits into independent pieces (the cache tiles of ``tiles.py``) runs a piece
per core on this pool. numba's thread count is per calling thread, so each pool thread
sets its own to one once; numba's parallel-compiled kernels then run inline on it,
vectorised as they are in a parallel run. Several threads may call numba's parallel kernels at once only under
its omp and tbb threading layers (its fallback, workqueue, aborts the process):
:func:`usable` says whether this process may.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from . import kernels


@functools.cache
def _layer_is_threadsafe() -> bool:
    try:
        layer = numba.threading_layer()
    except ValueError:  # chosen at the first parallel call: make one
        none = np.zeros(0, np.int64)
        kernels.diag_parallel(np.zeros(64), np.zeros(64), none, np.ones((1, 64)), np.zeros((1, 64)))
        layer = numba.threading_layer()
    return layer in ("omp", "tbb")


def usable() -> bool:
    """Whether pieces may run on the pool: more than one numba thread here, and a
    threading layer that takes parallel calls from several threads."""
    return numba.get_num_threads() > 1 and _layer_is_threadsafe()


@functools.cache
def pool() -> ThreadPoolExecutor:
    """The pool (``NUMBA_NUM_THREADS`` threads; callers submit at most
    ``numba.get_num_threads()`` pieces at a time)."""
    return ThreadPoolExecutor(numba.config.NUMBA_NUM_THREADS, thread_name_prefix="qharbor-engine",
                              initializer=numba.set_num_threads, initargs=(1,))
