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

from .config import Config, ConfigError, load_config
from .decide import Allocation, NoSolution, Solution, allocate, solve
from .engine import Result, run

__all__ = ["Allocation", "Config", "ConfigError", "NoSolution", "Result", "Solution", "allocate",
           "load_config", "run", "solve"]
