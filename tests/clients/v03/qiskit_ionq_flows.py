"""qiskit-ionq 0.5.13 (the last v0.3 release), unmodified, run in its own virtualenv.

Usage: python qiskit_ionq_flows.py FLOW BASE_URL KEY; prints one JSON line for the test.
Only the base URL and the key are configured.
"""

from __future__ import annotations

import json
import os
import sys
import warnings

from qiskit import QuantumCircuit
from qiskit_ionq import ErrorMitigation, IonQProvider
from qiskit_ionq.exceptions import IonQAPIError


def bell() -> QuantumCircuit:
    qc = QuantumCircuit(2, 2, name="bell")
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    return qc


def main(flow: str, url: str, key: str) -> dict:
    os.environ["IONQ_API_URL"] = url  # its unauthenticated qubit probe reads the URL from here
    provider = IonQProvider(token=key, url=url)
    simulator = provider.get_backend("ionq_simulator")
    if flow == "bell":
        job = simulator.run(bell(), shots=1000, sampler_seed=7)
        counts = job.get_counts()
        return {"id": job.job_id(), "counts": {k: int(v) for k, v in counts.items()},
                "probabilities": job.get_probabilities(), "time_taken": job.result().time_taken}
    if flow == "bit_order":
        qc = QuantumCircuit(3, 3)
        qc.x(0)
        qc.measure([0, 1, 2], [2, 1, 0])  # qubit 0 lands in clbit 2: exercises registers.meas_mapped
        return {"counts": {k: int(v) for k, v in simulator.run(qc, shots=100).get_counts().items()}}
    if flow == "multi":
        ghz = QuantumCircuit(3, 3, name="ghz")
        ghz.h(0)
        ghz.cx(0, 1)
        ghz.cx(1, 2)
        ghz.measure([0, 1, 2], [0, 1, 2])
        flip = QuantumCircuit(2, 2, name="flip")
        flip.x(1)
        flip.measure([0, 1], [1, 0])
        job = simulator.run([bell(), ghz, flip], shots=200, sampler_seed=3)
        counts = job.get_counts()
        return {"id": job.job_id(), "counts": [{k: int(v) for k, v in c.items()} for c in counts]}
    if flow == "qpu":
        qpu = provider.get_backend("ionq_qpu.aria-1")
        job = qpu.run(bell(), shots=100)
        return {"id": job.job_id(), "counts": {k: int(v) for k, v in job.get_counts().items()}}
    if flow == "debias":  # error_mitigation on a QPU, then the results averaged and sharpened
        ones = QuantumCircuit(3, 3, name="ones")
        ones.x([0, 2])
        ones.cx(0, 1)
        ones.measure([0, 1, 2], [0, 1, 2])
        out = {}
        for mitigation in ("DEBIASING", "NO_DEBIASING"):
            job = provider.get_backend("ionq_qpu.aria-1").run(
                ones, shots=1000, error_mitigation=getattr(ErrorMitigation, mitigation))
            averaged = job.get_counts()
            sharpened = job.result(sharpen=True).get_counts()
            out[mitigation] = {"id": job.job_id(), "averaged": {k: int(v) for k, v in averaged.items()},
                               "sharpened": {k: int(v) for k, v in sharpened.items()}}
        return out
    if flow == "cancel":  # against a server without workers: the job is still queued
        job = simulator.run(bell(), shots=10)
        job.cancel()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            status = job.status().name
        return {"id": job.job_id(), "status": status}
    if flow == "delete":
        job = simulator.run(bell(), shots=10)
        job.wait_for_final_state(timeout=30)
        answer = simulator.client.delete_job(job.job_id())
        try:
            simulator.client.retrieve_job(job.job_id())
            after = 200
        except IonQAPIError as exc:
            after = exc.status_code
        return {"id": job.job_id(), "answer": answer, "after": after}
    if flow == "calibration":
        calibration = provider.get_backend("ionq_qpu.aria-1").calibration()
        return {"id": calibration.uuid, "qubits": calibration.num_qubits, "target": calibration.target,
                "time": calibration.calibration_time.timestamp(), "fidelities": calibration.fidelities,
                "timings": calibration.timings, "connectivity": len(calibration.connectivity)}
    if flow == "wide":  # ry on 22 qubits (angles from the environment): a sampled result
        angles = json.loads(os.environ["QHARBOR_ANGLES"])
        qc = QuantumCircuit(len(angles), len(angles))
        for q, a in enumerate(angles):
            qc.ry(a, q)
        qc.measure(range(len(angles)), range(len(angles)))
        job = simulator.run(qc, shots=1000, sampler_seed=3)
        return {"id": job.job_id(), "counts": {k: int(v) for k, v in job.get_counts().items()}}
    if flow == "retrieve":  # a job created elsewhere (e.g. through v0.4), read by id
        job = simulator.retrieve_job(os.environ["QHARBOR_JOB_ID"])
        return {"status": job.status().name, "counts": {k: int(v) for k, v in job.get_counts().items()}}
    raise SystemExit(f"unknown flow {flow}")


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
