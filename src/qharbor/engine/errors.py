"""Why a simulation can fail; each error carries the IonQ failure code it maps to."""


class SimulationError(Exception):
    """A circuit that was valid on the wire but cannot be simulated."""

    code = "SimulationError"


class SimulationTimeout(SimulationError):
    code = "SimulationTimeout"


class TooComplex(SimulationError):
    """The run would need more memory, or produce a larger result, than allowed."""

    code = "QuantumCircuitComplexityError"
