"""cirq-ionq 1.5.0 (its last v0.3 release), unmodified, run in its own virtualenv.

Usage: python cirq_ionq_flows.py FLOW HOST_URL KEY; prints one JSON line for the test.
Only the remote host and the key are configured (cirq adds /v0.3 itself).
"""

from __future__ import annotations

import json
import os
import sys

import cirq
import cirq_ionq


def bell() -> cirq.Circuit:
    a, b = cirq.LineQubit.range(2)
    return cirq.Circuit(cirq.H(a), cirq.CNOT(a, b), cirq.measure(a, b, key="m"))


def main(flow: str, url: str, key: str) -> dict:
    service = cirq_ionq.Service(remote_host=url, api_key=key, default_target="simulator", max_retry_seconds=10)
    if flow == "bell":
        job = service.create_job(bell(), repetitions=500, name="bell")
        result = job.results()[0].to_cirq_result(seed=11)
        again = service.get_job(job.job_id())
        return {"id": job.job_id(), "histogram": {str(k): v for k, v in result.histogram(key="m").items()},
                "status": again.status(), "name": again.name(), "qubits": again.num_qubits(),
                "repetitions": again.repetitions(), "target": again.target()}
    if flow == "bit_order":
        a, b, c = cirq.LineQubit.range(3)
        circuit = cirq.Circuit(cirq.X(a), cirq.measure(a, key="first"), cirq.measure(b, c, key="rest"))
        result = service.run(circuit, repetitions=50)
        return {"first": result.histogram(key="first"), "rest": result.histogram(key="rest")}
    if flow == "multi":
        a, b = cirq.LineQubit.range(2)
        circuits = [cirq.Circuit(cirq.X(a), cirq.measure(a, key="m")),
                    cirq.Circuit(cirq.Z(a), cirq.measure(a, key="m")),
                    cirq.Circuit(cirq.X(b), cirq.measure(a, b, key="m"))]
        results = service.run_batch(circuits, repetitions=20)
        return {"histograms": [{str(k): v for k, v in r.histogram(key="m").items()} for r in results]}
    if flow == "qpu":
        result = service.run(bell(), repetitions=100, target="qpu")
        return {"histogram": {str(k): v for k, v in result.histogram(key="m").items()}}
    if flow == "list":
        ids = [service.create_job(bell(), repetitions=10).job_id() for _ in range(3)]
        listed = [j.job_id() for j in service.list_jobs()]
        return {"ids": ids, "listed": listed}
    if flow == "cancel":  # against a server without workers: the job is still queued
        job = service.create_job(bell(), repetitions=10)
        job.cancel()
        again = service.get_job(job.job_id())
        try:
            again.results(timeout_seconds=5)
            error = None
        except RuntimeError as exc:
            error = str(exc)
        return {"id": job.job_id(), "status": again.status(), "error": error}
    if flow == "delete":
        job = service.create_job(bell(), repetitions=10)
        job.results()
        job.delete()
        try:
            service.get_job(job.job_id())
            gone = False
        except cirq_ionq.ionq_exceptions.IonQNotFoundException:
            gone = True
        return {"id": job.job_id(), "status": job.status(), "gone": gone}
    if flow == "calibration":
        calibration = service.get_current_calibration()
        return {"qubits": calibration.num_qubits(), "target": calibration.target(),
                "time": calibration.calibration_time().timestamp(), "fidelities": calibration.fidelities(),
                "timings": calibration.timings(), "pairs": len(calibration.connectivity()),
                "listed": len(service.list_calibrations())}
    if flow == "retrieve":  # a job created elsewhere (e.g. through v0.4), read by id
        job = service.get_job(os.environ["QHARBOR_JOB_ID"])
        result = job.results()[0]
        return {"status": job.status(), "probabilities": {str(k): v for k, v in result.probabilities().items()}}
    raise SystemExit(f"unknown flow {flow}")


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
