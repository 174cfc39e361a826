"""Distributions written the way analysts think: ranges, quantiles, history, correlations.

Nothing here knows about SaaS; research code can use it on its own::

    from distributions import parse, sample_joint
"""

from ._compiled import compiled_paths
from .base import Distribution, DistributionError
from .fitting import Fit, fit, ranking, read_column
from .joint import ar1_uniforms, correlate, design_uniforms, sample_joint, stream
from .spec import parse

__all__ = [
    "Distribution",
    "DistributionError",
    "Fit",
    "ar1_uniforms",
    "compiled_paths",
    "correlate",
    "design_uniforms",
    "fit",
    "parse",
    "ranking",
    "read_column",
    "sample_joint",
    "stream",
]
