"""qharbor: a self-hostable quantum cloud speaking the IonQ API.

Read top-down: ``api`` (HTTP views) -> ``service`` (jobs, keys, programs) ->
``store`` (schema, migrations, queue SQL) and ``dispatch`` (workers) -> ``engine``
(simulation).
"""

from . import cpu as _cpu

_cpu.prefer_wide_vectors()  # before anything imports numba (cpu.py says why)

__version__ = "0.1.0"
