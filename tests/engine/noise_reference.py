"""IonQ's noise models as published, computed exactly without any of qharbor's noise code.

Built only from ``shared/reference/ionq-noise-notes.md`` and the placement rule the README
and ``engine/noise.py`` document:

* the parameters (r1, r2) are transcribed here from the notes' table (:data:`PUBLISHED`);
* a one-qubit depolarizing channel (Kraus I·sqrt(1 − 3r1/4), X, Y, Z ·sqrt(r1/4)) after every
  one-qubit gate, on its qubit (a gate broadcast over several targets is one gate per target);
  a two-qubit one (I⊗I·sqrt(1 − 15r2/16), the 15 other Pauli pairs ·sqrt(r2/16)) after every
  two-qubit gate (a singly-controlled one-qubit gate is one), on its two qubits; after a gate
  on k ≥ 3 qubits, the two-qubit channel on each consecutive pair of its qubits, controls then
  targets (:func:`documented_sites`).

Two exact references, neither using ``qharbor.engine.noise``:

* :func:`clifford_distribution` — any width, Clifford circuits: each Pauli error is carried to
  the end by qiskit's own ``Clifford`` tableau of the rest of the circuit, only its X part
  changes outcomes, so the noisy distribution is the ideal one XOR-convolved with every
  site's independent flip distribution (a product in the Walsh–Hadamard domain).
* :func:`block_distribution` — any gates (rotations, native gates, multi-controlled gates,
  ``pauliexp``) on a register made of independent blocks of ≤ 5 qubits: a numpy density
  matrix per block, the gates' unitaries from qiskit (``reference.py``), the channels from
  their Kraus operators; the register's distribution is the blocks' product.

The statistic (:func:`violations`): for each case a set of events (each qubit reads 1, each
neighbouring pair has odd parity, the ideal outcome), each event's count in ``shots`` shots
checked with an exact two-sided binomial test at level ``ALPHA / EVENTS`` — Bonferroni over
every event of every case, so a correct model fails any of the checks with probability at
most ``ALPHA`` (per seed; the seeds are fixed, so a run is reproducible).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import Clifford, Operator, Pauli, Statevector
from reference import append as append_qiskit
from scipy.stats import binom

from qharbor.engine import Circuit, Gate
from qharbor.engine.noise import MODELS, NoiseModel

#: The notes' table: (r1, r2) per model.
PUBLISHED = {"aria-1": (0.0005, 0.0133), "aria-2": (0.000657333, 0.01856), "forte-1": (0.000266667, 0.004949333)}
#: Every case here runs under aria-1's published parameters.
R1, R2 = PUBLISHED["aria-1"]

#: Family-wise false-failure rate of all statistical checks together (see the module doc).
ALPHA = 1e-4
SHOTS = 60_000

Site = tuple[int, ...]
Rule = Callable[[Gate], list[Site]]
_ONE_QUBIT_NAMES = {"x", "y", "z", "h", "s", "si", "t", "ti", "v", "vi", "rx", "ry", "rz", "phase", "gpi", "gpi2"}


def documented_sites(gate: Gate) -> list[Site]:
    """Where the channels go after ``gate`` (the rule in the module doc)."""
    if gate.name in _ONE_QUBIT_NAMES and not gate.controls:
        return [(t,) for t in gate.targets]
    qubits = list(gate.controls) + list(gate.targets)
    return [(qubits[i], qubits[i + 1]) for i in range(len(qubits) - 1)]


# --- Clifford circuits, any width ---------------------------------------------------------

def _qiskit(n: int, gates: Sequence[Gate]) -> QuantumCircuit:
    qc = QuantumCircuit(n)
    for g in gates:
        append_qiskit(qc, g)
    return qc


def _x_mask(p: Pauli) -> int:
    return int(sum(1 << q for q, bit in enumerate(p.x) if bit))


def clifford_distribution(circuit: Circuit, r1: float = R1, r2: float = R2,
                          rule: Rule = documented_sites) -> np.ndarray:
    """The exact noisy outcome distribution of a Clifford ``circuit`` (see the module doc)."""
    n, gates = circuit.qubits, circuit.gates
    ideal = Statevector(_qiskit(n, gates)).probabilities()
    # rest[i]: the Clifford of gates i+1.. (built backwards, one composition per gate)
    rest: list[Clifford] = [Clifford(QuantumCircuit(n))] * len(gates)
    for i in range(len(gates) - 2, -1, -1):
        rest[i] = Clifford(_qiskit(n, gates[i + 1 : i + 2])).compose(rest[i + 1])
    spectrum = np.ones(1 << n)
    outcomes = np.arange(1 << n)
    for i, gate in enumerate(gates):
        for site in rule(gate):
            def carried(q: int, kind: str, i: int = i) -> int:  # the X mask that X_q or Z_q becomes at the end
                label = ["I"] * n
                label[n - 1 - q] = kind
                return _x_mask(Pauli("".join(label)).evolve(rest[i], frame="s"))
            xs = [carried(q, "X") for q in site]
            zs = [carried(q, "Z") for q in site]
            masks = []
            for code in range(1, 4 ** len(site)):  # every non-identity Pauli on the site
                m = 0
                for j in range(len(site)):
                    v = code >> (2 * j) & 3  # 1 = X, 2 = Z, 3 = Y (X and Z)
                    m ^= (xs[j] if v & 1 else 0) ^ (zs[j] if v & 2 else 0)
                masks.append(m)
            p = 3 * r1 / 4 if len(site) == 1 else 15 * r2 / 16
            signs = np.array([1 - 2 * (np.bitwise_count(outcomes & m) & 1).astype(np.int64) for m in masks])
            spectrum *= (1 - p) + p * signs.mean(axis=0)
    return np.clip(_xor_convolve(ideal, spectrum), 0, None)


def _wht(v: np.ndarray) -> np.ndarray:
    v = v.astype(np.float64).copy()
    h = 1
    while h < v.size:
        v = v.reshape(-1, 2, h)
        v = np.stack((v[:, 0] + v[:, 1], v[:, 0] - v[:, 1]), axis=1).reshape(-1)
        h *= 2
    return v


def _xor_convolve(ideal: np.ndarray, flip_spectrum: np.ndarray) -> np.ndarray:
    return _wht(_wht(ideal) * flip_spectrum) / ideal.size


# --- Any gates, register of independent blocks --------------------------------------------

_PAULI_2 = [np.eye(2), np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.diag([1.0, -1.0])]


def _embed(k: int, ops: dict[int, np.ndarray]) -> np.ndarray:
    """The 2^k matrix of one-qubit ``ops`` on local qubits (index bit q = qubit q)."""
    m = np.ones((1, 1), dtype=complex)
    for q in reversed(range(k)):
        m = np.kron(m, ops.get(q, _PAULI_2[0]))
    return m


def _channel(rho: np.ndarray, k: int, site: Site, r: float) -> np.ndarray:
    kinds = 4 ** len(site)
    out = (1 - (kinds - 1) * r / kinds) * rho
    for code in range(1, kinds):
        ops = {q: _PAULI_2[code >> (2 * j) & 3] for j, q in enumerate(site)}
        p = _embed(k, ops)
        out = out + (r / kinds) * (p @ rho @ p.conj().T)
    return out


def _block_probabilities(k: int, gates: Sequence[Gate], r1: float, r2: float, rule: Rule) -> np.ndarray:
    rho = np.zeros((1 << k, 1 << k), dtype=complex)
    rho[0, 0] = 1
    for g in gates:
        u = Operator(_qiskit(k, [g])).data
        rho = u @ rho @ u.conj().T
        for site in rule(g):
            rho = _channel(rho, k, site, r1 if len(site) == 1 else r2)
    return np.clip(np.real(np.diag(rho)), 0, None)


def _local(g: Gate, offset: int) -> Gate:
    return g._replace(targets=tuple(t - offset for t in g.targets), controls=tuple(c - offset for c in g.controls))


def block_distribution(circuit: Circuit, blocks: Sequence[int], r1: float = R1, r2: float = R2,
                       rule: Rule = documented_sites) -> np.ndarray:
    """The exact noisy distribution of ``circuit`` whose gates each stay inside one block of
    consecutive qubits (``blocks``: their sizes, from qubit 0 up)."""
    assert sum(blocks) == circuit.qubits
    out = np.ones(1)
    offset = 0
    for k in blocks:
        own = [_local(g, offset) for g in circuit.gates if offset <= min(g.targets + g.controls)
               and max(g.targets + g.controls) < offset + k]
        out = np.kron(_block_probabilities(k, own, r1, r2, rule), out)  # higher qubits: higher bits
        offset += k
    assert math.isclose(out.sum(), 1, rel_tol=1e-9)
    return out


# --- The cases -----------------------------------------------------------------------------

_CLIFFORD_1Q = ["h", "s", "si", "v", "vi", "x", "y", "z"]
_INVERSE = {"s": "si", "si": "s", "v": "vi", "vi": "v", "t": "ti", "ti": "t"}


def _inverse(g: Gate) -> Gate:
    if g.name in ("rx", "ry", "rz", "xx", "yy", "zz", "phase"):
        return g._replace(params=(-g.params[0],))
    if g.name == "pauliexp":
        return g._replace(params=(-g.params[0],))
    if g.name in ("gpi2",):
        return g._replace(params=(g.params[0] + 0.5,))
    if g.name == "ms":
        return g._replace(params=(g.params[0] + 0.5, *g.params[1:]))
    return g._replace(name=_INVERSE.get(g.name, g.name))


def mirror(gates: list[Gate]) -> list[Gate]:
    """The gates, then their inverses in reverse order: ideally the identity."""
    return gates + [_inverse(g) for g in reversed(gates)]


def clifford_mirror(n: int, layers: int, seed: int) -> Circuit:
    """A random Clifford mirror circuit on ``n`` qubits where qubit q takes part in more
    gates the higher q is (so each qubit's flip rate is its own, and misplaced channels
    show), with two-qubit gates between neighbours and across the register."""
    rng = np.random.default_rng(seed)
    gates: list[Gate] = []
    for layer in range(layers):
        for q in range(n):
            if rng.random() < (q + 1) / n:
                gates.append(Gate(_CLIFFORD_1Q[rng.integers(len(_CLIFFORD_1Q))], (q,)))
        for q in range(layer % 2, n - 1, 2):
            if rng.random() < (q + 2) / (n + 1):
                a, b = (q, q + 1) if rng.random() < 0.5 else (q + 1, q)
                gates.append([Gate("x", (b,), (a,)), Gate("z", (b,), (a,)), Gate("swap", (a, b))][rng.integers(3)])
    return Circuit(n, tuple(mirror(gates)))


def _rotations(n: int, depth: int, seed: int) -> Circuit:
    """Only one-qubit gates: qubit q gets 2·depth·(q+1)/n of them (rotations, natives,
    Cliffords), mirrored; a broadcast h on every qubit opens and closes it."""
    rng = np.random.default_rng(seed)
    gates: list[Gate] = []
    for q in range(n):
        for _ in range(depth * (q + 1) // n):
            name = ["rx", "ry", "rz", "gpi2", "t", "h"][rng.integers(6)]
            params = (float(rng.uniform(-math.pi, math.pi)),) if name in ("rx", "ry", "rz") else \
                (float(rng.random()),) if name == "gpi2" else ()
            gates.append(Gate(name, (q,), (), params))
    body = [Gate("h", tuple(range(n)))] + gates
    return Circuit(n, tuple(mirror(body)))


def _wide(n_blocks: int, rounds: int, seed: int) -> tuple[Circuit, list[int]]:
    """Blocks of 5 qubits, each with multi-controlled gates and a three-qubit ``pauliexp``
    (k ≥ 3 qubits, in random control/target orders) after a rotation of every qubit; the
    blocks' sizes too."""
    rng = np.random.default_rng(seed)
    gates: list[Gate] = []
    for b in range(n_blocks):
        qs = [5 * b + j for j in range(5)]
        gates.append(Gate("ry", tuple(qs), (), (0.9,)))
        for _ in range(rounds):
            a, b_, c, d = (qs[int(j)] for j in rng.permutation(5)[:4])
            gates += [Gate("x", (c,), (a, b_)), Gate("x", (d,), (c, b_, a)),
                      Gate("pauliexp", (b_, a, d), (), (float(rng.uniform(0, 1)),), ("XYZ", "ZZX"), (0.7, 0.4))]
    return Circuit(5 * n_blocks, tuple(gates)), [5] * n_blocks


@dataclass(frozen=True)
class Case:
    circuit: Circuit
    exact: Callable[..., np.ndarray]  # (circuit, r1=, r2=, rule=) -> distribution
    seed: int
    r1: float = R1
    r2: float = R2
    shots: int = SHOTS

    @property
    def model(self) -> NoiseModel:
        """The model the engine runs the case under: aria-1's own where the case uses the
        published parameters (which ``test_models_carry_the_published_parameters`` checks)."""
        if (self.r1, self.r2) == PUBLISHED["aria-1"]:
            return MODELS["aria-1"]
        return NoiseModel("strong", self.r1, self.r2, 29)


def _cases() -> dict[str, Case]:
    wide, sizes = _wide(2, 1, 4)  # one layer of wide gates per block: every error after it reaches the end
    rotations = _rotations(10, 60, 2)
    return {
        "clifford-mirror-12": Case(clifford_mirror(12, 16, 1), lambda c, **kw: clifford_distribution(c, **kw), 1),
        "clifford-mirror-16": Case(clifford_mirror(16, 10, 7), lambda c, **kw: clifford_distribution(c, **kw), 2),
        "one-qubit-mirror-10": Case(rotations, lambda c, **kw: block_distribution(c, [5, 5], **kw), 3),
        # A strong model (r1 = 0.002, r2 = 0.04: 4x and 3x aria-1) where only the placement is checked.
        "wide-gates-10": Case(wide, lambda c, **kw: block_distribution(c, sizes, **kw), 4, 0.002, 0.04, 30_000),
    }


CASES = _cases()


@functools.cache
def exact(name: str) -> np.ndarray:
    """The published model's exact distribution for a case (cached: it never depends on qharbor)."""
    case = CASES[name]
    return case.exact(case.circuit, r1=case.r1, r2=case.r2)


def events(n: int, ideal_outcome: int | None) -> dict[str, np.ndarray]:
    """The checked events as masks over outcomes."""
    k = np.arange(1 << n)
    out = {f"q{q}=1": (k >> q & 1).astype(bool) for q in range(n)}
    out |= {f"q{q}^q{q + 1}": ((k >> q ^ k >> (q + 1)) & 1).astype(bool) for q in range(n - 1)}
    if ideal_outcome is not None:
        out["ideal"] = k == ideal_outcome
    return out


def case_events(name: str) -> dict[str, np.ndarray]:
    c = CASES[name].circuit
    return events(c.qubits, 0 if name.startswith(("clifford", "one-qubit")) else None)


EVENTS = sum(len(case_events(name)) for name in CASES)


def violations(name: str, counts: dict[str, int], alpha: float = ALPHA) -> list[str]:
    """The events whose count is outside the exact binomial acceptance region of the
    published model (level ``alpha / EVENTS`` each, two-sided)."""
    p_exact, shots = exact(name), CASES[name].shots
    found = np.zeros_like(p_exact)
    for k, c in counts.items():
        found[int(k)] = c
    assert found.sum() == shots
    level = alpha / EVENTS
    out = []
    for label, mask in case_events(name).items():
        p = float(np.clip(p_exact[mask].sum(), 0, 1))
        low, high = binom.ppf(level / 2, shots, p), binom.isf(level / 2, shots, p)
        seen = int(found[mask].sum())
        if not low <= seen <= high:
            out.append(f"{name} {label}: {seen} of {shots}, published model {p * shots:.0f} [{low:.0f}, {high:.0f}]")
    return out


# --- Mutations: the model broken the ways a wrong implementation would be --------------------

def _neighbour(only_pairs: bool) -> Callable[[Rule], Rule]:
    """Every channel (or every two-qubit one) on the neighbouring qubits, q ↔ q ^ 1."""
    def mutate(rule: Rule) -> Rule:
        return lambda g: [s if only_pairs and len(s) == 1 else tuple(q ^ 1 for q in s) for s in rule(g)]
    return mutate


def _wide_rule(kind: str) -> Callable[[Rule], Rule]:
    """Another rule for gates on k ≥ 3 qubits (others keep ``rule``)."""
    def mutate(rule: Rule) -> Rule:
        def sites(g: Gate) -> list[Site]:
            qubits = tuple(g.controls) + tuple(g.targets)
            if len(qubits) < 3 or (g.name in _ONE_QUBIT_NAMES and not g.controls):
                return rule(g)
            if kind == "star":  # the first qubit paired with each other one
                return [(qubits[0], q) for q in qubits[1:]]
            if kind == "all-pairs":
                return [(a, b) for i, a in enumerate(qubits) for b in qubits[i + 1:]]
            return [qubits[:2]]  # one channel, on the first two qubits
        return sites
    return mutate


@dataclass(frozen=True)
class Mutation:
    one: float = 1.0  # factor on the one-qubit error probability
    two: float = 1.0  # factor on the two-qubit error probability
    rule: Callable[[Rule], Rule] | None = None  # how the placement changes


MUTATIONS = {
    "r1x2": Mutation(one=2), "r1x0.5": Mutation(one=0.5), "r1=0": Mutation(one=0),
    "r2x1.3": Mutation(two=1.3), "r2x0.7": Mutation(two=0.7),
    "neighbour-qubits": Mutation(rule=_neighbour(False)), "neighbour-pairs": Mutation(rule=_neighbour(True)),
    "wide-star": Mutation(rule=_wide_rule("star")), "wide-all-pairs": Mutation(rule=_wide_rule("all-pairs")),
    "wide-one-pair": Mutation(rule=_wide_rule("one-pair")),
}


def power(name: str, mutation: Mutation) -> float:
    """The chance that ``mutation`` fails case ``name``: at least that of its most sensitive
    event, from the exact mutated distribution and the published model's acceptance region."""
    case = CASES[name]
    rule = mutation.rule(documented_sites) if mutation.rule else documented_sites
    mutated = case.exact(case.circuit, r1=case.r1 * mutation.one, r2=case.r2 * mutation.two, rule=rule)
    level, best = ALPHA / EVENTS, 0.0
    for mask in case_events(name).values():
        p0, p1 = float(np.clip(exact(name)[mask].sum(), 0, 1)), float(np.clip(mutated[mask].sum(), 0, 1))
        low, high = binom.ppf(level / 2, case.shots, p0), binom.isf(level / 2, case.shots, p0)
        best = max(best, float(binom.cdf(low - 1, case.shots, p1) + binom.sf(high, case.shots, p1)))
    return best


if __name__ == "__main__":  # the sizing: each mutation's chance of failing each case
    print(f"{EVENTS} events, each at level {ALPHA / EVENTS:.1e}")
    for m_name, m in MUTATIONS.items():
        print(m_name, {name: round(power(name, m), 4) for name in CASES})
