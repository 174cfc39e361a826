"""``[retention]``: which churn model a config uses, and the age of the start customers.

``model = "churn"`` (the default) is the model of docs/model.md: every customer churns with
probability ``retention.churn`` a month (``retention.early_churn`` while younger than
``early_months``).
``model = "sbg"`` is the shifted-beta-geometric model: each customer's monthly churn
probability is drawn from Beta(alpha, beta) when they join, so a customer in their a-th
month since joining churns with probability ``alpha / (alpha + beta + a - 1)``; it takes
the inputs ``retention.alpha`` and ``retention.beta`` instead of ``retention.churn``.
``[start] customer_age`` (months, default 0: a fresh cohort) is the age of the start
customers at month 0 under sBG.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import schema
from .errors import ConfigError
from .validate import as_choice, as_integer

SBG = "sbg"


@dataclass(frozen=True)
class Retention:
    """The churn model (``"churn"`` or ``"sbg"``) and, under sBG, the age in months of the
    start customers at month 0."""

    model: str = "churn"
    customer_age: int = 0


def parse_retention(raw: Mapping[str, Any], plain: Mapping[str, Any],
                    written: Mapping[str, Any]) -> Retention:
    """The retention model from the raw config, its plain keys (``retention.model``,
    ``start.customer_age``...) and its written inputs, checked for keys that do not go
    together."""
    model = as_choice(plain.get("retention.model", "churn"), "retention.model",
                      schema.RETENTION_MODELS)
    sbg = model == SBG
    if not sbg:
        for key in ("retention.alpha", "retention.beta", "start.customer_age"):
            if key in written or key in plain:
                raise ConfigError(key, f"needs [retention] model = \"sbg\" (got model = "
                                       f"{model!r}; under it, churn is retention.churn)")
        return Retention()
    if "retention.churn" in written:
        raise ConfigError("retention.churn", "does not go with model = \"sbg\" (alpha and beta "
                                             "set churn by age); remove churn or the model")
    for key in ("retention.early_churn", "retention.early_months"):
        if key in written or key in plain:
            raise ConfigError(key, "does not go with model = \"sbg\" (its churn already falls "
                                   "with age); remove early_churn and early_months")
    if raw.get("segments") is not None:
        raise ConfigError("segments", "[[segments]] do not go with [retention] model = \"sbg\" "
                                      "yet (segments churn at their own churn rate: use "
                                      "model = \"churn\")")
    for key in ("retention.alpha", "retention.beta"):
        if key not in written:
            raise ConfigError(key, "is required with model = \"sbg\" (a number > 0 or a "
                                   "distribution table)")
    age = as_integer(plain.get("start.customer_age", 0), "start.customer_age", 0)
    return Retention(model, age)
