"""Running one circuit of a job: which engine path its type and backend call for (ideal,
noisy, an emulated QPU with systematic errors and debiasing, OpenQASM 3 shot branching),
and the result documents and ``output`` it leaves (``results.py``). The worker only
claims, calls :func:`circuit` for each circuit, and stores (``dispatch/worker.py``)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from .. import engine as sim
from . import characterizations, qasm3, qasm3_results, results
from .backends import noise_model
from .codec import circuit_of, decode_circuit

#: The noise model a job runs under (None: ideal) and, on ``qpu.*``, the emulated machine.
Machine = tuple[sim.noise.NoiseModel | None, characterizations.Characterization | None]


def machine(job: Mapping[str, Any]) -> Machine:
    """What a job runs on, decided from its backend and ``noise`` (``backends.noise_model``)."""
    qpu = characterizations.current(job["backend"]) if job["backend"].startswith("qpu.") else None
    return noise_model(job["backend"], orjson.loads(job["noise"]) if job["noise"] else None), qpu


def emulated_ms(job: Mapping[str, Any], program: str) -> int:
    """The time the emulated machine would take for one circuit (gates, readout, reset per shot)."""
    return characterizations.circuit_ms(job["backend"], circuit_of(job["type"], program), job["shots"])


@functools.cache
def _systematics(backend: str, model: sim.noise.NoiseModel) -> sim.debias.Systematics:
    qpu = characterizations.current(backend)
    assert qpu is not None
    return sim.debias.systematics(backend, qpu.qubits, model, 1 - qpu.fidelity["1q"], 1 - qpu.fidelity["2q"],
                                  qpu.readout_error)


Histogram = dict[str, int]
#: One circuit's outcome: its result documents (``{kind: json}``) and its ``output``.
Ran = tuple[dict[str, str], dict[str, Any]]


def _same(histogram: Histogram) -> Histogram:
    return histogram


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _ideal(job: Mapping[str, Any], position: int, circuit: sim.Circuit, limits: sim.Limits) -> Ran:
    """One circuit on the ideal simulator: its exact probability map while that is small,
    else the job's shots drawn once from the final state (``engine.ideal``)."""
    found, precision = sim.ideal(circuit, job["shots"], results.measurement_rng(job, position), limits)
    return ({"probabilities": _dumps(found.as_map(job["shots"]))},
            {"probabilities": "sampled" if found.sampled else "exact", "precision": precision})


def _noisy(job: Mapping[str, Any], target_id: str, position: int, circuit: sim.Circuit, model: sim.noise.NoiseModel,
           qpu: characterizations.Characterization | None, limits: sim.Limits,
           relabel: Callable[[Histogram], Histogram] = _same) -> Ran:
    """One circuit under a noise model, like hardware (count/shots): on the simulator one
    trajectory per shot; on an emulated QPU with its systematic errors, readout and, if the
    job is debiased, as variants (engine/debias.py). ``relabel`` maps each histogram's
    outcomes (an OpenQASM 3 program's basis states to its records)."""
    shots, seed = job["shots"], results.seed_of(job)
    sampled = {"probabilities": "sampled"}
    if qpu is None:
        counts = relabel(sim.noisy_counts(circuit, model, shots, seed, position, limits))
        return {"probabilities": _dumps(results.sampled_probabilities(counts, shots))}, sampled
    on = bool(job["debiasing"])  # decided at submission (service/programs.py)
    runs = sim.debias.run(circuit, _systematics(job["backend"], model), qpu.qubits, shots, seed, position,
                          variants=sim.debias.VARIANTS if on else 1, limits=limits)
    histograms = [relabel(h) for _, h in runs]
    if not on:
        return {"probabilities": _dumps(results.sampled_probabilities(histograms[0], shots))}, sampled
    variants = [{"variant_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"qharbor:{target_id}:{v}")),
                 "qubit_map": qubit_map, "shots": sum(h.values())} for v, (qubit_map, h) in enumerate(runs)]
    record = {"variants": variants, "aggregation_method": "average", "histograms": histograms}
    output = {**sampled, "error_mitigation": {"debiasing": {"variants": variants, "aggregation_method": "average"}}}
    return {"probabilities": _dumps(sim.debias.average(histograms)), results.DEBIASING: _dumps(record)}, output


def circuit(job: Mapping[str, Any], target_id: str, position: int, program: str, machine: Machine,
            limits: sim.Limits) -> Ran:
    """One circuit of a claimed job (its stored ``program``, the ``position``-th of the job,
    stored under ``target_id``), on the path its type and backend call for."""
    model, qpu = machine
    if job["type"] != qasm3.JOB_TYPE:
        circuit = decode_circuit(program)
        if model is None:
            return _ideal(job, position, circuit, limits)
        return _noisy(job, target_id, position, circuit, model, qpu, limits)
    compiled = qasm3.decode(program)  # OpenQASM 3: per-register results (qasm3_results)
    fixed = qasm3_results.static(compiled) if model is not None else None
    if fixed is not None:  # a static program under noise: as a circuit
        documents, output = _noisy(job, target_id, position, fixed.circuit, model, qpu, limits, fixed.recorded)
        return {qasm3_results.LAYOUT: fixed.layout, **documents}, output
    # ideal, or dynamic: shot branching
    return qasm3_results.run(compiled, shots=job["shots"], seed=results.seed_of(job), limits=limits, noise=model)
