"""Monte Carlo engine for B2B SaaS funnels.

>>> import simulator
>>> cfg = simulator.load_config({"simulation": {"paths": 200, "months": 12, "seed": 1},
...                              "acquisition": {"visitors": 2000},
...                              "funnel": [{"stage": "lead", "rate": 0.01},
...                                         {"stage": "customer", "rate": 0.2}],
...                              "revenue": {"arpa": 1500}, "retention": {"churn": 0.02}})
>>> result = simulator.run(cfg)
>>> result["customers"].shape
(200, 12)
"""

from typing import Any

from .config import Config, ConfigError, load_config
from .engine import Execution, Result, RunError, run

__all__ = ["Allocation", "Config", "ConfigError", "Execution", "NoSolution", "Result",
           "RunError", "Solution", "allocate", "backtest", "calibrate", "load_config", "run",
           "solve"]

#: Imported on first use (they need scipy, which a plain run does not pay for).
_LAZY = {"calibrate": ".history.calibrate", "backtest": ".history.backtest",
         "solve": ".decide", "allocate": ".decide", "Solution": ".decide",
         "NoSolution": ".decide", "Allocation": ".decide"}


def __getattr__(name: str) -> Any:
    """``simulator.calibrate``, ``backtest`` (see :mod:`simulator.history`), ``solve`` and
    ``allocate`` (see :mod:`simulator.decide`), imported when first used."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
