"""What a job *is*, apart from HTTP, storage and workers: the backends and their
characterizations (and so which noise model applies), the stored form of programs
(``codec.py``, the OpenQASM 3 compiler), and what results look like (``results.py``).

Both sides of the queue stand on it: the service validates and stores programs and
renders results; the workers decode and run them (``dispatch/``). It depends only on
the engine.
"""
