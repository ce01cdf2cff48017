"""Overload: do clients over their rate limit hurt the ones within it?

Starts ``qharbor serve --workers 0 --rate-limit RATE`` on a fresh data directory, creates one
key per client (as ``qharbor keys create`` does), and runs two phases of ``--seconds`` each, every client its own
``httpx.AsyncClient`` (one keep-alive connection); the well-behaved ones in one asyncio loop, the abusive ones
in another, in a second process:

1. *unloaded*: the ``--clients/2`` well-behaved clients alone, each sending ``GET
   /v0.4/jobs?limit=5`` at ``--good-rate`` requests a second (under the limit);
2. *loaded*: the same, plus as many abusive clients, each sending at ``--bad-rate`` (over the
   limit, ignoring ``Retry-After``), so most of their requests are answered 429.

It reports, per phase and kind of client: requests, statuses, and latency p50/p99; then the
well-behaved p99 loaded / unloaded (the target: at most 2). The load generator shares the
machine with the server: on a small, busy machine its own scheduling delay is in the numbers.

    .venv/bin/python bench/overload.py --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import multiprocessing
import tempfile
import time
from pathlib import Path

import httpx
from common import HOST, free_port, process, qharbor_serve, wait_healthy

from qharbor.service.keys import create as create_key
from qharbor.settings import sqlite_url
from qharbor.store.db import open_engine


async def _client(url: str, key: str, rate: float, until: float, kind: str,
                  latencies: dict[str, list[float]], statuses: dict[str, collections.Counter[int]]) -> None:
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"apiKey {key}"}, timeout=30,
                                 limits=httpx.Limits(max_connections=1)) as client:
        period = 1 / rate
        tick = time.monotonic() + period * (hash(key) % 1000) / 1000  # spread the clients' phases
        while tick < until:
            await asyncio.sleep(max(0.0, tick - time.monotonic()))
            started = time.monotonic()
            try:
                status = (await client.get("/v0.4/jobs", params={"limit": 5})).status_code
            except httpx.HTTPError:
                status = 0
            latencies[kind].append(time.monotonic() - started)
            statuses[kind][status] += 1
            tick = max(tick + period, time.monotonic())  # a late client does not burst to catch up


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def _phase(url: str, good: list[str], bad: list[str], args: argparse.Namespace) -> dict[str, dict]:
    latencies: dict[str, list[float]] = collections.defaultdict(list)
    statuses: dict[str, collections.Counter[int]] = collections.defaultdict(collections.Counter)
    until = time.monotonic() + args.seconds
    await asyncio.gather(*(_client(url, k, args.good_rate, until, "good", latencies, statuses) for k in good),
                         *(_client(url, k, args.bad_rate, until, "bad", latencies, statuses) for k in bad))
    return {kind: {"requests": len(latencies[kind]), "per_s": round(len(latencies[kind]) / args.seconds, 1),
                   "statuses": dict(statuses[kind]),
                   "p50_ms": round(_quantile(latencies[kind], 0.5) * 1000, 1),
                   "p99_ms": round(_quantile(latencies[kind], 0.99) * 1000, 1)} for kind in latencies}


def _abusers(url: str, bad: list[str], args: argparse.Namespace, results: multiprocessing.Queue) -> None:
    results.put(asyncio.run(_phase(url, [], bad, args)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="in all; half well-behaved, half abusive")
    parser.add_argument("--rate-limit", default="2/s", help="each key's limit (qharbor serve --rate-limit)")
    parser.add_argument("--good-rate", type=float, default=1.0, help="requests/s of a well-behaved client")
    parser.add_argument("--bad-rate", type=float, default=4.0, help="requests/s of an abusive client")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "serve.log"
        cmd = qharbor_serve(Path(tmp) / "data", port, 0, "--rate-limit", args.rate_limit)
        with process(cmd, log) as proc:
            wait_healthy(proc, port, log)
            url = f"http://{HOST}:{port}"
            engine = open_engine(sqlite_url(Path(tmp) / "data"))  # what `qharbor keys create` does
            keys = [create_key(engine, f"client-{i}")[1] for i in range(args.clients)]
            engine.dispose()
            good, bad = keys[: args.clients // 2], keys[args.clients // 2:]
            unloaded = asyncio.run(_phase(url, good, [], args))
            # The abusive clients run in a process of their own: in the same event loop their
            # requests' client-side work would delay the well-behaved ones' before the server does.
            results: multiprocessing.Queue[dict[str, dict]] = multiprocessing.Queue()
            abusers = multiprocessing.Process(target=_abusers, args=(url, bad, args, results))
            abusers.start()
            loaded = asyncio.run(_phase(url, good, [], args))
            loaded.update(results.get(timeout=args.seconds + 120))
            abusers.join()
    ratio = loaded["good"]["p99_ms"] / unloaded["good"]["p99_ms"]
    print(json.dumps({"settings": vars(args), "unloaded": unloaded, "loaded": loaded,
                      "good_p99_loaded_over_unloaded": round(ratio, 2)}, indent=1))


if __name__ == "__main__":
    main()
