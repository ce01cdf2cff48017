"""qBraid 0.13's IonQ runtime provider (``qbraid.runtime.ionq``), unmodified, in its own
virtualenv without qiskit-ionq (with it, qBraid builds circuits through a qiskit-ionq provider
that ignores the session's URL).

Usage: python qbraid_flows.py FLOW BASE_URL KEY; prints one JSON line for the test. Only the
key and the session's ``base_url`` are configured. qBraid keys counts with qubit 0 rightmost.
"""

from __future__ import annotations

import json
import sys
import warnings

from qbraid.runtime.ionq import IonQProvider

warnings.simplefilter("ignore")  # "measurements ignored" when it converts OpenQASM to IonQ JSON

BELL = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nh q[0];\ncx q[0], q[1];\nc = measure q;\n'
GHZ = ('OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[3] q;\nbit[3] c;\nh q[0];\ncx q[0], q[1];\ncx q[1], q[2];\n'
       'c = measure q;\n')
FLIP = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\ncreg c[3];\nx q[0];\nx q[1];\nmeasure q -> c;\n'


def counts(job: object) -> object:
    return job.result().data.get_counts()  # type: ignore[attr-defined]


def main(flow: str, url: str, key: str) -> dict:
    provider = IonQProvider(api_key=key)
    provider.session.base_url = url
    if flow == "devices":
        devices = provider.get_devices()
        qpu = provider.get_device("qpu.aria-1")
        return {"devices": {d.id: {"qubits": d.num_qubits, "status": d.status().name} for d in devices},
                "characterization": qpu.profile.get("characterization")}
    simulator = provider.get_device("simulator")
    if flow == "simulator":
        single = [simulator.run(program, shots=100) for program in (BELL, GHZ, FLIP)]
        multi = simulator.run([BELL, FLIP], shots=200)  # one ionq.multi-circuit.v1 job
        return {"single": [{"id": j.id, "counts": counts(j)} for j in single],
                "multi": {"id": multi.id, "counts": counts(multi)}}
    if flow == "noisy":
        job = simulator.run(GHZ, shots=1000, noise={"model": "aria-1", "seed": 11})
        return {"id": job.id, "counts": counts(job)}
    if flow == "qpu":
        job = provider.get_device("qpu.aria-1").run(GHZ, shots=1000)
        return {"id": job.id, "counts": counts(job)}
    raise SystemExit(f"unknown flow {flow}")


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
