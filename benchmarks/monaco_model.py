"""The same model run by monaco (https://github.com/scottshambaugh/monaco), if installed.

monaco is a per-case Monte Carlo framework: it draws the input variables (here from the same
frozen scipy distributions as :mod:`reference`, passed as ``dist`` + ``distkwargs``), then for
every case calls ``preprocess(case) -> run(...) -> postprocess(case, ...)``. The ``run``
function is the pure-Python path of :mod:`per_path`, fed by the case's seed; ``postprocess``
records month-horizon customers, MRR and cash as output values.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np

import per_path
from reference import Model


def available() -> bool:
    """Whether ``import monaco`` can work."""
    return importlib.util.find_spec("monaco") is not None


def _functions(model: Model) -> dict[str, Any]:
    def preprocess(case: Any) -> tuple[dict[str, float], int]:
        p = {name: float(val.val) for name, val in case.invals.items()}
        p.update({name: float(value) for name, value in case.constvals.items()})
        return p, int(case.seed)

    def run(p: dict[str, float], seed: int) -> tuple[dict[str, list[float]]]:
        return (per_path.simulate_path(model, p, np.random.default_rng(seed)),)

    def postprocess(case: Any, row: dict[str, list[float]]) -> None:
        for name in ("customers", "mrr", "cash"):
            case.addOutVal(name, row[name][-1])

    return {"preprocess": preprocess, "run": run, "postprocess": postprocess}


def simulate(model: Model, cases: int, seed: int) -> dict[str, np.ndarray]:
    """Run ``cases`` cases single-threaded; the final month's customers, mrr and cash."""
    import monaco

    sim = monaco.Sim(name="funnel", ndraws=cases, fcns=_functions(model),
                     samplemethod=monaco.SampleMethod.RANDOM, seed=seed,
                     singlethreaded=True, verbose=False)
    for name, dist in model.inputs.items():
        if isinstance(dist, float):
            sim.addConstVal(name, dist)
        else:
            sim.addInVar(name=name, dist=dist.dist, distkwargs=dict(dist.kwds))
    sim.runSim()
    return {name: np.asarray(sim.outvars[name].nums, dtype=np.float64)
            for name in ("customers", "mrr", "cash")}
