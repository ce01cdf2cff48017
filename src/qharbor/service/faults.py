"""Fault injection for SDK authors: a key created with ``--faults "429=0.1,503=0.05,latency=200ms"``
gets a 429 on 10 % of its requests, a 503 on 5 %, and every request delayed 200 ms, so a client
library's retry code can be tested against a real server. The draws are seeded (``seed=N`` in
the spec, else from the key's id), so a test run is repeatable per API process, and each
injected fault is logged with the request's id."""

from __future__ import annotations

import random
import re
import zlib
from dataclasses import dataclass

#: The statuses a spec may inject (the ones IonQ's clients retry, and 500).
STATUSES = (429, 500, 502, 503, 504)
_LATENCY = re.compile(r"(\d+(?:\.\d+)?)(ms|s)")


@dataclass(frozen=True)
class Faults:
    shares: tuple[tuple[int, float], ...]  # (status, probability)
    latency_s: float
    seed: int | None


def parse(spec: str) -> Faults:
    """``429=0.1,503=0.05,latency=200ms,seed=7``; raises ValueError saying what is wrong."""
    shares: list[tuple[int, float]] = []
    latency, seed = 0.0, None
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, value = part.partition("=")
        if name == "latency":
            found = _LATENCY.fullmatch(value)
            if not found:
                raise ValueError(f"latency must be like 200ms or 1.5s (got {value!r})")
            latency = float(found[1]) / (1000 if found[2] == "ms" else 1)
        elif name == "seed":
            if not value.isdigit():
                raise ValueError(f"seed must be a whole number (got {value!r})")
            seed = int(value)
        elif name.isdigit() and int(name) in STATUSES:
            try:
                share = float(value)
            except ValueError:
                share = -1.0
            if not 0 <= share <= 1:
                raise ValueError(f"{name} must be a share from 0 to 1 (got {value!r})")
            shares.append((int(name), share))
        else:
            raise ValueError(f"{part!r} is not a fault: use STATUS=SHARE ({', '.join(map(str, STATUSES))}), "
                             "latency=200ms or seed=N")
    if sum(s for _, s in shares) > 1:
        raise ValueError("the shares add up to more than 1")
    return Faults(tuple(shares), latency, seed)


class Injector:
    """One API process's seeded draws, one random stream per key."""

    def __init__(self) -> None:
        self._streams: dict[str, tuple[Faults, random.Random]] = {}

    def draw(self, key_id: str, spec: str) -> tuple[float, int | None]:
        """(latency to add, status to answer instead, or None) for the key's next request."""
        found = self._streams.get(key_id)
        if found is None:
            faults = parse(spec)
            seed = faults.seed if faults.seed is not None else zlib.crc32(key_id.encode())
            found = self._streams[key_id] = (faults, random.Random(seed))
        faults, rng = found
        roll, edge = rng.random(), 0.0
        for status, share in faults.shares:
            edge += share
            if roll < edge:
                return faults.latency_s, status
        return faults.latency_s, None
