"""Running one circuit of a job: which engine path its type and backend call for (ideal,
noisy, an emulated QPU with systematic errors and debiasing, OpenQASM 3 shot branching),
and the result documents and ``output`` it leaves (``results.py``). The worker only
claims, calls :func:`circuit` for each circuit, and stores (``dispatch/worker.py``)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np
import orjson

from .. import engine as sim
from . import characterizations, hamiltonians, qasm3, results
from .backends import noise_model
from .codec import COMPILED_TYPES, decode_circuit, decode_energy, qasm3_gates

#: The noise model a job runs under (None: ideal) and, on ``qpu.*``, the emulated machine.
Machine = tuple[sim.noise.NoiseModel | None, characterizations.Characterization | None]


def machine(job: Mapping[str, Any]) -> Machine:
    """What a job runs on, decided from its backend and ``noise`` (``backends.noise_model``)."""
    qpu = characterizations.current(job["backend"]) if job["backend"].startswith("qpu.") else None
    return noise_model(job["backend"], orjson.loads(job["noise"]) if job["noise"] else None), qpu


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
    return ({results.PROBABILITIES: _dumps(found.as_map(job["shots"]))},
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
        return {results.PROBABILITIES: _dumps(results.sampled_probabilities(counts, shots))}, sampled
    on = bool(job["debiasing"])  # decided at submission (service/programs.py)
    runs = sim.debias.run(circuit, _systematics(job["backend"], model), qpu.qubits, shots, seed, position,
                          variants=sim.debias.VARIANTS if on else 1, limits=limits)
    histograms = [relabel(h) for _, h in runs]
    if not on:
        return {results.PROBABILITIES: _dumps(results.sampled_probabilities(histograms[0], shots))}, sampled
    variants = [{"variant_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"qharbor:{target_id}:{v}")),
                 "qubit_map": qubit_map, "shots": sum(h.values())} for v, (qubit_map, h) in enumerate(runs)]
    record = {"variants": variants, "aggregation_method": "average", "histograms": histograms}
    output = {**sampled, "error_mitigation": {"debiasing": {"variants": variants, "aggregation_method": "average"}}}
    return {results.PROBABILITIES: _dumps(sim.debias.average(histograms)), results.DEBIASING: _dumps(record)}, output


class Outcome(NamedTuple):
    """One circuit's result documents (``{kind: json}``), its ``output``, and on an emulated
    QPU the time the machine would take for it (gates, readout, reset per shot; else 0)."""

    documents: dict[str, str]
    output: dict[str, Any]
    machine_ms: int


def circuit(job: Mapping[str, Any], target_id: str, position: int, program: str, machine: Machine,
            limits: sim.Limits) -> Outcome:
    """One circuit of a claimed job (its stored ``program``, the ``position``-th of the job,
    stored under ``target_id``), on the path its type and backend call for."""
    model, qpu = machine
    if job["type"] == hamiltonians.JOB_TYPE:
        return _energy(job, position, program, model, qpu, limits)
    if job["type"] in COMPILED_TYPES:
        compiled = qasm3.decode(program)
        ran = _qasm3(job, target_id, position, compiled, model, qpu, limits)
        counted = qasm3_gates(compiled) if qpu is not None else None
    else:
        counted = decode_circuit(program)
        if model is None:
            ran = _ideal(job, position, counted, limits)
        else:
            ran = _noisy(job, target_id, position, counted, model, qpu, limits)
    if qpu is None or counted is None:
        return Outcome(*ran, 0)
    return Outcome(*ran, characterizations.circuit_ms(job["backend"], counted, job["shots"]))


def _energy(job: Mapping[str, Any], position: int, program: str, model: sim.noise.NoiseModel | None,
            qpu: characterizations.Characterization | None, limits: sim.Limits) -> Outcome:
    """A hamiltonian-energy quantum function (``hamiltonians.py``): exact from the final state
    on the ideal simulator; else each measurement group's circuit run with the job's shots on
    the noisy or emulated-QPU path, and the value estimated from their histograms."""
    ansatz, obs = decode_energy(program)
    if model is None:
        # CVaR and the penalty read every basis state: ~2 state vectors more of float64 arrays.
        per_outcome = obs.penalized or obs.cvar_alpha is not None
        precision = limits.precision_for(ansatz.qubits, 3 if per_outcome else 1,
                                        " with per-outcome energies" if per_outcome else "")
        re, im = sim.final_state(ansatz, limits.deadline(), precision)
        value = hamiltonians.exact(obs, re, im)
        output = {"energy": value, "estimator": "exact", "precision": precision}
        return Outcome({}, {**output, "value": value, "variance": 0.0}, 0)
    shots, seed = job["shots"], results.seed_of(job)
    found = hamiltonians.groups(obs)
    histograms, machine_ms = [], 0
    for i, g in enumerate(found):
        circuit = hamiltonians.group_circuit(ansatz, g)
        stream = position * 65536 + i
        if qpu is None:
            histograms.append(sim.noisy_counts(circuit, model, shots, seed, stream, limits))
            continue
        runs = sim.debias.run(circuit, _systematics(job["backend"], model), qpu.qubits, shots, seed, stream,
                              variants=sim.debias.VARIANTS if job["debiasing"] else 1, limits=limits)
        pooled: Histogram = {}
        for _, h in runs:
            for k, c in h.items():
                pooled[k] = pooled.get(k, 0) + c
        histograms.append(pooled)
        machine_ms += characterizations.circuit_ms(job["backend"], circuit, shots)
    value, variance = hamiltonians.estimate(obs, found, histograms)
    output = {"energy": value, "estimator": "sampled", "measurement_groups": len(found), "shots_per_group": shots}
    return Outcome({}, {**output, "value": value, "variance": variance}, machine_ms)


#: A stream of the job's seed used only for shot branching (distinct from result sampling).
_BRANCH_STREAM = 0x0A53


def _layout(compiled: qasm3.Qasm3Program, sampled: bool) -> str:
    registers = tuple((name, size) for name, size in compiled.registers)
    return results.Layout(registers, compiled.program.clbits, sampled).dumps()


def _recorded(deferred: list[sim.dynamic.Measure], clbits: int) -> Callable[[Histogram], Histogram]:
    """Relabelling of a basis-state histogram (decimal keys, as the engine returns) into a
    histogram of classical records, for a static program's final measurements."""

    def relabel(histogram: Histogram) -> Histogram:
        if not histogram:
            return {}
        keys = sim.dynamic.records(np.array([int(k) for k in histogram], dtype=np.int64), deferred, clbits)
        out: dict[int, int] = {}
        for record, count in zip(keys.tolist(), histogram.values()):
            out[int(record)] = out.get(int(record), 0) + count
        return {str(r): out[r] for r in sorted(out)}

    return relabel


def _qasm3(job: Mapping[str, Any], target_id: str, position: int, compiled: qasm3.Qasm3Program,
           model: sim.noise.NoiseModel | None, qpu: characterizations.Characterization | None,
           limits: sim.Limits) -> Ran:
    """An OpenQASM 3 program, whose results are kept per classical record (``results.Layout``).

    Under a noise model a *static* program — nothing dynamic left once its final
    measurements are deferred — runs as one circuit through the same noisy paths as a JSON
    circuit (trajectories; on a QPU its systematics, readout and debiasing), its histograms
    relabelled from basis states to records. Otherwise it runs ideally (exact while small),
    or, when dynamic (mid-circuit measurement, reset, feed-forward), by shot branching, with
    the model's depolarizing channel after every gate if it has one (``engine/dynamic.py``);
    an emulated QPU's systematic and readout errors and debiasing are not applied there."""
    static = sim.dynamic.static_part(compiled.program) if model is not None else None
    if static is not None:
        circuit, deferred = static
        relabel = _recorded(deferred, compiled.program.clbits)
        documents, output = _noisy(job, target_id, position, circuit, model, qpu, limits, relabel)  # type: ignore[arg-type]
        return {results.LAYOUT: _layout(compiled, True), **documents}, output
    rng = np.random.default_rng([results.seed_of(job), _BRANCH_STREAM])
    distribution, exact = sim.dynamic.outcomes(compiled.program, job["shots"], rng, limits, model)
    probabilities = {str(k): p for k, p in distribution.items()}
    return ({results.PROBABILITIES: _dumps(probabilities), results.LAYOUT: _layout(compiled, not exact)},
            {"probabilities": "exact" if exact else "sampled"})
