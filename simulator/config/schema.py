"""What a config may hold: sections, model inputs with their kinds and defaults, metric names.

Model inputs are addressed by dotted names (``revenue.arpa``, ``funnel.sql.rate``); each has a
kind that fixes the values it may take.
"""

from __future__ import annotations

from dataclasses import dataclass

#: kind -> (lowest allowed, highest allowed, lowest is exclusive, what is allowed)
KINDS: dict[str, tuple[float, float, bool, str]] = {
    "count": (0.0, float("inf"), False, ">= 0"),
    "money": (0.0, float("inf"), False, ">= 0"),
    "real": (float("-inf"), float("inf"), False, "any number"),
    "growth": (-1.0, float("inf"), True, "> -1"),
    "rate": (0.0, 1.0, False, "in [0, 1]"),
    "elasticity": (0.0, 1.0, True, "in (0, 1]"),
    "positive": (0.0, float("inf"), True, "> 0"),
    "factor": (0.0, float("inf"), False, ">= 0"),
}

#: How much probability a distribution may put outside its input's range before it is refused.
#: Draws in that negligible tail are clamped to the range.
OUTSIDE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class InputDef:
    """A model input: its dotted name, kind and default (None: required or derived)."""

    name: str
    kind: str
    default: float | None


INPUTS: tuple[InputDef, ...] = (
    InputDef("start.customers", "count", 0.0),
    InputDef("start.mrr", "money", None),
    InputDef("start.cash", "real", 0.0),
    InputDef("acquisition.visitors", "count", None),
    InputDef("acquisition.visitor_growth", "growth", 0.0),
    InputDef("revenue.arpa", "money", None),
    InputDef("revenue.expansion", "growth", 0.0),
    InputDef("revenue.gross_margin", "rate", 1.0),
    InputDef("retention.churn", "rate", None),
    InputDef("retention.early_churn", "rate", None),
    InputDef("retention.alpha", "positive", None),  # model = "sbg" only
    InputDef("retention.beta", "positive", None),
    InputDef("costs.marketing", "money", 0.0),
    InputDef("costs.marketing_growth", "growth", 0.0),
    InputDef("costs.sales", "money", 0.0),
    InputDef("costs.sales_growth", "growth", 0.0),
    InputDef("costs.other_opex", "money", 0.0),
    InputDef("costs.other_opex_growth", "growth", 0.0),
)
REQUIRED_INPUTS = ("acquisition.visitors", "revenue.arpa", "retention.churn")

SIMULATION_KEYS = ("months", "paths", "seed", "percentiles", "report_months", "sampling", "flows",
                   "kernel")
METRICS_KEYS = ("cac_window",)
FUNNEL_KEYS = ("stage", "rate", "lag", "lag_pmf")
PLAIN_KEYS = {"start": ("pipeline", "customer_age"), "retention": ("early_months", "model")}
RETENTION_MODELS = ("churn", "sbg")
CORRELATION_KEYS = ("between", "rho")
INPUT_OPTIONS = ("vary", "persistence")
SECTIONS = ("simulation", "start", "acquisition", "funnel", "revenue", "retention", "costs",
            "metrics", "correlations", "channels", "seasonality", "shocks", "sales_team",
            "segments")

SAMPLING = ("random", "lhs", "sobol")
FLOWS = ("binomial", "expected")
KERNELS = ("numpy", "compiled")
DEFAULT_PERCENTILES = (5.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0)
DEFAULT_REPORT_MONTHS = (12, 24, 36)

@dataclass(frozen=True)
class Metric:
    """One metric of a run: its unit and where its values come from.

    ``source`` is ``"flow"`` (the month loop fills it), ``"economics"`` (derived from the
    flows per block of paths and stored) or ``"view"`` (computed on read from the stored
    metric ``of``, "" meaning the last funnel stage, by ``how``: ``"same"``, ``"x12"`` or
    ``"cumsum"`` over months). Units: "#" count, "$" money, "mo" months, "x" ratio.
    """

    name: str
    unit: str
    source: str
    of: str = ""
    how: str = ""
    words: str = ""  # what tables call it, e.g. "CAC payback" (its unit is added)


#: Metrics every run produces, in table order (stage counts come after visitors, one per
#: stage name, as flows in "#").
CORE_METRICS = (
    Metric("visitors", "#", "flow", words="Visitors"),
    # new_customers is a flow when the config has segments
    Metric("new_customers", "#", "view", of="", how="same", words="New customers"),
    Metric("churned", "#", "flow", words="Churned"),
    Metric("customers", "#", "flow", words="Customers"),
    Metric("mrr", "$", "flow", words="MRR"),
    Metric("arr", "$", "view", of="mrr", how="x12", words="ARR"),
    Metric("revenue", "$", "view", of="mrr", how="same", words="Revenue"),
    Metric("cumulative_revenue", "$", "view", of="mrr", how="cumsum", words="Cumulative revenue"),
    Metric("sm_spend", "$", "flow", words="S&M spend"),
    Metric("cac", "$", "economics", words="CAC"),
    Metric("cac_payback_months", "mo", "economics", words="CAC payback"),
    Metric("ltv", "$", "economics", words="LTV"),
    Metric("ltv_to_cac", "x", "economics", words="LTV:CAC"),
    Metric("cash", "$", "flow", words="Cash"),
    Metric("runway_months", "mo", "economics", words="Runway"),
    Metric("burn_multiple", "x", "economics", words="Burn multiple"),
    Metric("nrr", "x", "economics", words="Net revenue retention"),
    Metric("cohort_payback_months", "mo", "economics", words="Cohort payback"),
)
#: Per channel, named ``<channel>.<metric>``.
CHANNEL_METRICS = (Metric("new_customers", "#", "flow", words="New customers"),
                   Metric("spend", "$", "flow", words="spend"),
                   Metric("cac", "$", "economics", words="CAC"))
#: Per segment, named ``<segment>.<metric>``.
SEGMENT_METRICS = (Metric("new_customers", "#", "flow", words="New customers"),
                   Metric("customers", "#", "flow", words="Customers"),
                   Metric("mrr", "$", "flow", words="MRR"))

METRICS = tuple(m.name for m in CORE_METRICS)
DEPTH_METRICS = tuple(m.name for m in CHANNEL_METRICS)
VIEWS = {m.name: m for m in CORE_METRICS if m.source == "view"}
UNITS = {m.name: m.unit for m in (*CHANNEL_METRICS, *CORE_METRICS)}
WORDS = {m.name: m.words for m in (*CHANNEL_METRICS, *CORE_METRICS)}


def metric_names(stages: tuple[str, ...], channels: tuple[str, ...] = (),
                 segments: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Every metric of a run, in table order: visitors, one per stage, the rest, then
    ``<channel>.new_customers``, ``<channel>.spend`` and ``<channel>.cac`` per channel when
    the config has [[channels]], and ``<segment>.new_customers``, ``<segment>.customers``,
    ``<segment>.mrr`` per segment."""
    per_channel = tuple(f"{c}.{m}" for c in channels for m in DEPTH_METRICS)
    per_segment = tuple(f"{s}.{m.name}" for s in segments for m in SEGMENT_METRICS)
    return ("visitors", *stages, *METRICS[1:], *per_channel, *per_segment)


def flow_names(stages: tuple[str, ...], channels: tuple[str, ...] = (),
               segments: tuple[str, ...] = (), shocks: tuple[str, ...] = ()
               ) -> tuple[str, ...]:
    """The arrays the month loop fills: the flow metrics (``new_customers`` too when the
    config has segments), per channel and per segment flows, and each shock's activity
    (``shock:<name>``)."""
    core = tuple(m.name for m in CORE_METRICS[1:] if m.source == "flow")
    segmented = ("new_customers",) if segments else ()
    per_channel = tuple(f"{c}.{m.name}" for c in channels for m in CHANNEL_METRICS
                        if m.source == "flow")
    per_segment = tuple(f"{s}.{m.name}" for s in segments for m in SEGMENT_METRICS)
    return ("visitors", *stages, *core, *segmented, *per_channel, *per_segment,
            *(f"shock:{name}" for name in shocks))


def stored_names(stages: tuple[str, ...], channels: tuple[str, ...] = (),
                 segments: tuple[str, ...] = (), shocks: tuple[str, ...] = ()
                 ) -> tuple[str, ...]:
    """Every array a run stores: the flows, then the economics metrics (per channel too);
    the views (:data:`VIEWS`) are computed on read."""
    economics = tuple(m.name for m in CORE_METRICS if m.source == "economics")
    per_channel = tuple(f"{c}.{m.name}" for c in channels for m in CHANNEL_METRICS
                        if m.source == "economics")
    return (*flow_names(stages, channels, segments, shocks), *economics, *per_channel)


def unit_of(metric: str) -> str:
    """The unit of a metric ("#" for stage counts)."""
    return UNITS.get(metric.rsplit(".", 1)[-1], "#")


def section_inputs(section: str) -> tuple[InputDef, ...]:
    """The model inputs written in ``[section]``."""
    return tuple(d for d in INPUTS if d.name.split(".")[0] == section)
