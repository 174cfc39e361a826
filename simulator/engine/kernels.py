"""Which kernel runs a config's blocks: the NumPy month loop or the compiled one.

``[simulation] kernel = "numpy" | "compiled"`` (or ``--kernel``) asks for one; without it
the compiled kernel runs where numba (the ``fast`` extra) is installed, and the NumPy kernel
elsewhere. The two give different numbers for the same seed (equal in law). A config that
uses a feature the compiled kernel does not cover (:func:`unsupported`) runs on the NumPy
kernel, and the choice says why; so does one that asks for the compiled kernel on a machine
without numba.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..config.core import Config
from ..config.errors import ConfigError
from ..model.step import ModelShape

INSTALL = "pip install 'funnel-montecarlo[fast]'"


@dataclass(frozen=True)
class KernelChoice:
    """The kernel that ran (``"numpy"`` or ``"compiled"``) and, when it is not the one
    asked for or defaulted to, why."""

    kernel: str = "numpy"
    note: str = ""

    def describe(self) -> str:
        """``"compiled kernel"``, or ``"numpy kernel (the compiled kernel does not cover
        [[segments]])"``.

        >>> KernelChoice("numpy", "numba is not installed").describe()
        'numpy kernel (numba is not installed)'
        """
        return f"{self.kernel} kernel" + (f" ({self.note})" if self.note else "")


def choose(config: Config, shape: ModelShape) -> KernelChoice:
    """The kernel for ``config`` (``shape`` is its model shape)."""
    asked = config.simulation.kernel
    if asked == "numpy":
        return KernelChoice("numpy")
    if not available():
        return KernelChoice("numpy", f"the compiled kernel needs numba: {INSTALL}"
                            if asked == "compiled" else "")
    monthly = tuple(name for name, inp in config.inputs.items() if inp.vary == "month")
    missing = unsupported(shape, monthly)
    if missing is not None:
        return KernelChoice("numpy", f"the compiled kernel does not cover {missing}")
    return KernelChoice("compiled")


def available() -> bool:
    """Whether numba is installed (without importing it: that takes a while)."""
    return importlib.util.find_spec("numba") is not None


def unsupported(shape: ModelShape, monthly: tuple[str, ...] = ()) -> str | None:
    """The first feature of the model that the compiled kernel does not cover, or None.

    ``monthly`` names the inputs redrawn every month (``vary = "month"``)."""
    depth = shape.depth
    channels = depth.channels
    if len(channels) != 1 or channels[0].kind != "visitors" or channels[0].enters != -1:
        return "[[channels]]"
    checks = (("funnel lags", bool(depth.lags)), ("[start] pipeline", bool(depth.pipeline)),
              ("[sales_team]", depth.sales_team is not None),
              ("[[segments]]", bool(depth.segments)),
              ("[[shocks]]", bool(depth.shocks) and shape.shocks),
              ("retention.early_churn", depth.early_months > 0),
              ('retention.model = "sbg"', depth.retention.model != "churn"))
    for feature, used in checks:
        if used:
            return feature
    if shape.months >= 2**16 or len(shape.stages) > 254:  # the uniforms' counters
        return "more than 65,535 months" if shape.months >= 2**16 else "more than 254 stages"
    starting = [name for name in monthly if name.startswith("start.")]
    if starting:
        return f"{starting[0]} with vary = \"month\""
    return None


def common(configs: Sequence[Config]) -> list[Config]:
    """Scenarios compared with common random numbers must draw from the same streams: when
    they would not all run on the same kernel, they all run on the NumPy kernel."""
    return shared(configs)[0]


def shared(configs: Sequence[Config]) -> tuple[list[Config], list[str]]:
    """:func:`common`, and for each config why it runs on the NumPy kernel when that is
    because of the others or of a feature of its own ("" for the rest)."""
    from .runner import model_shape  # the runner imports this module

    choices = [choose(config, model_shape(config)) for config in configs]
    if len({choice.kernel for choice in choices}) <= 1:
        return list(configs), ["" for _ in configs]
    why = next(choice.note for choice in choices if choice.kernel == "numpy")
    moved = (why.replace("the compiled kernel does not cover", "shared with a scenario using")
             if why else "shared with a scenario on the NumPy kernel")
    return ([replace(config, simulation=replace(config.simulation, kernel="numpy"))
             for config in configs],
            [moved if choice.kernel == "compiled" else choice.note for choice in choices])


def warm_up(config: Config) -> None:
    """Load the compiled kernel now, in this process, when ``config`` runs on it (the first
    run on a machine compiles it: about 20 s). Forked workers then inherit it instead of
    each loading, or compiling, their own; a caller can say what the wait is for."""
    import distributions

    from ..model.params import draw_uniforms
    from .runner import model_shape, run_block  # the runner imports this module

    shape = model_shape(config)
    if choose(config, shape).kernel != "compiled":
        return
    with distributions.compiled_paths():
        params = draw_uniforms(config, 1, 0).parameters()
    # one path, one month: the same compiled code as the run's blocks; an error of that
    # path's volume is the run's to report (naming the file)
    with contextlib.suppress(ConfigError):
        run_block(replace(shape, months=1), config.simulation.flows, config.cac_window,
                  params, 0, 0, kernel="compiled")
