"""The network soak of ``tests/dispatch/test_network.py``, scaled up.

PostgreSQL, two APIs and three workers each on their own host (Linux network namespaces
joined by a bridge: ``tests/netns.py``), ``--jobs`` jobs submitted from here at ``--rate``
per second (alternating APIs, failing over to the other), and meanwhile, ``--gap`` seconds
apart: a worker SIGKILLed and restarted, an API SIGKILLed and restarted, a worker's link
cut for ``--cut`` seconds, PostgreSQL restarted (``pg_ctl restart -m fast``), a worker
SIGSTOPped for ``--pause`` seconds (``tests/soak.py``). Then it waits for every job to
settle and prints what it found: jobs, duration, throughput, lost, stuck, failed, run
twice, listed wrong, wrong results, processes that exited on their own, and how long each
fault took to recover from. Exits 1 if anything was found.

Needs root, iproute2 and PostgreSQL's server programs (as the tests do)::

    .venv/bin/python bench/soak.py --jobs 10000 --rate 40
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import netns
from soak import Load, Soak
from support import postgres_available


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=10_000, help="jobs to submit (at least; more while faults last)")
    p.add_argument("--rate", type=float, default=40.0, help="jobs submitted per second")
    p.add_argument("--stale", type=float, default=5.0, help="the workers' stale timeout, seconds")
    p.add_argument("--cut", type=float, default=None, help="link cut, seconds (default: stale + 5)")
    p.add_argument("--pause", type=float, default=None, help="SIGSTOP, seconds (default: stale + 3)")
    p.add_argument("--gap", type=float, default=None,
                   help="seconds between faults (default: the faults spread over the run)")
    p.add_argument("--settle", type=float, default=600.0, help="seconds jobs may take to settle after the load")
    args = p.parse_args()
    reason = netns.unavailable() or postgres_available()
    if reason:
        print(f"cannot run the soak here: {reason}", file=sys.stderr)
        return 2
    cut = args.cut if args.cut is not None else args.stale + 5
    pause = args.pause if args.pause is not None else args.stale + 3
    planned = args.jobs / args.rate
    gap = args.gap if args.gap is not None else max(2.0, (planned - 5 * 20) / 6)

    workdir = Path(tempfile.mkdtemp(prefix="qharbor-soak-"))
    soak = Soak(workdir, stale_s=args.stale)
    try:
        soak.start()
        print(f"cluster up (logs in {workdir}); {args.jobs} jobs at {args.rate:g}/s, faults {gap:.0f} s apart",
              flush=True)
        load = Load(soak.api_urls, soak.key, args.jobs, args.rate)
        load.keep_going.set()
        started = time.monotonic()
        flowing = threading.Thread(target=load.run, daemon=True)
        flowing.start()
        soak.faults(load, gap_s=gap, cut_s=cut, pause_s=pause)
        faults_over = time.monotonic() - started
        flowing.join()
        submitted = time.monotonic() - started
        outcome = soak.verify(load, bound_s=args.settle)
        duration = submitted + outcome.settled_s
        ran_by = soak.survivor_alone("w1", jobs=20, bound_s=120)
    finally:
        soak.close()

    print(f"\njobs accepted:   {outcome.accepted} ({soak.slow} of them slow, to be caught in hand by faults);"
          f" {outcome.unasked} more accepted whose answer was lost (retried submissions)")
    print(f"duration:        {duration:.1f} s (submitting {submitted:.1f} s, faults over at {faults_over:.1f} s,"
          f" settled {outcome.settled_s:.1f} s after the last submission)")
    print(f"throughput:      {outcome.accepted / duration:.1f} jobs/s completed")
    print(f"lost:            {len(outcome.lost)}")
    print(f"stuck:           {len(outcome.stuck)}")
    print(f"failed:          {len(outcome.failed)}")
    print(f"run twice:       {len(outcome.duplicates)} ({outcome.discarded} outcomes fenced off,"
          f" {outcome.retried} jobs given to a second worker)")
    print(f"listing:         {outcome.listing or 'each job listed exactly once through each API'}")
    print(f"wrong results:   {len(outcome.wrong)} (each read through the API that did not accept it)")
    print(f"exited:          {len(outcome.exited)} processes ended on their own")
    print(f"API errors:      {len(outcome.server_errors)} (other than 503); {outcome.failovers} failovers")
    print(f"survivor:        w1 ran {ran_by.count('w1')}/{len(ran_by)} new jobs alone after the faults, unrestarted")
    print("recovery:")
    for fault, took in soak.recovery.items():
        print(f"  {fault}: {took}")
    for name, found in outcome.problems().items():
        print(f"PROBLEM {name}: {found[:5]}", file=sys.stderr)
    return 1 if outcome.problems() or ran_by != ["w1"] * len(ran_by) else 0


if __name__ == "__main__":
    sys.exit(main())
