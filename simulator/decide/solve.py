"""Goal seek: the value of one input at which P(target) reaches a probability.

The input is scaled by a multiplier (every draw of a distribution times m, a constant times
m) with the same seed at every m (common random numbers: the same uniforms for every input,
the same shocks, the same flow streams), so the estimated probability is a deterministic
function of m, and the same question gives the same answer. A bracketing search (regula
falsi with the Illinois step, falling back to bisection) narrows the crossing to 0.1% of m,
from either direction: the smallest m that reaches the probability when it rises with m,
the largest when it falls. A paid channel's spend moves along the channel's response curve
(diminishing returns, :mod:`simulator.decide.response`), as in an allocation.

Under binomial flows the evaluations draw their counts by inversion
(:class:`~simulator.model.inversion.InversionFlows`: the same law as ``simulate``, one
uniform per path per draw, each count monotone in its mean), so each path meets a target
from one multiplier on (or up to one) and the probability is a monotone step function of m
that the search brackets exactly; the numbers are those of the same law with other draws
than ``simulate``'s. Under expected flows it is a step function anyway (only the drawn
inputs are random).

The answer's interval comes from re-solving on :data:`GROUPS` disjoint groups of paths
(independent replications; a path's counts depend on its own inputs and uniforms only, so
the groups are searched together, each path at its group's multiplier): the full answer
plus or minus a t quantile times the groups' standard deviation over sqrt(GROUPS).

>>> import simulator
>>> cfg = simulator.load_config({"simulation": {"paths": 400, "months": 6, "seed": 3},
...     "acquisition": {"visitors": 100}, "funnel": [{"stage": "customer", "rate": 0.02}],
...     "revenue": {"arpa": 100}, "retention": {"churn": 0.0}})
>>> answer = simulator.solve(cfg, "customers@6>=10", 0.8, "acquisition.visitors")
>>> round(answer.value), answer.probability >= 0.8
(103, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import special

from ..config.core import Config, load_config
from ..config.validate import Input
from ..engine.results import compare
from ..model.params import Value, scaled
from ..review.analysis import Target, wilson_interval
from .evaluate import Evaluator
from .response import Response
from .targets import (
    Span,
    default_multipliers,
    parse_probability,
    parse_target,
    shown,
    varied_input,
)

#: Relative width of the final bracket on the multiplier.
TOLERANCE = 1e-3
MAX_STEPS = 40
#: Groups of paths the goal seek is repeated on, for the Monte Carlo interval of the answer.
GROUPS = 8


class NoSolution(ValueError):
    """No value in the range reaches the probability (or every value does)."""

    def __init__(self, message: str, ends: tuple[tuple[float, float], ...]) -> None:
        super().__init__(message)
        self.ends = ends


@dataclass(frozen=True)
class Solution:
    """The answer of a goal seek; ``value`` is the input's mean at the answer (its P5 and
    P95 too for a distribution), the intervals are Monte Carlo intervals at ``level``."""

    input: str
    target: str
    goal: float
    multiplier: float
    value: float
    value_p5: float | None
    value_p95: float | None
    probability: float
    probability_interval: tuple[float, float]
    multiplier_interval: tuple[float, float]
    value_interval: tuple[float, float]
    ends: tuple[tuple[float, float], tuple[float, float]]  # (multiplier, probability)
    paths: int
    seed: int
    evaluations: int
    level: float
    replicas: tuple[float, ...] = ()  # the multiplier each group of paths answers alone

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (intervals as two-element lists)."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = [list(v) if isinstance(v, tuple) else v for v in value]
        return out


class _Bracket:
    """The search's state: two multipliers on either side of the crossing, ``meet`` (f > 0,
    reaches the probability) and ``miss`` (f < 0), narrowed by regula falsi with the Illinois
    step, and bisected when three steps did not halve the bracket."""

    def __init__(self, meet: float, f_meet: float, miss: float, f_miss: float) -> None:
        self.meet, self.f_meet, self.miss, self.f_miss = meet, f_meet, miss, f_miss
        self.side = 0  # which end the last step replaced: 1 meet, -1 miss
        self.steps = 0
        self.checkpoint = abs(meet - miss)  # the width three steps ago

    def done(self) -> bool:
        return abs(self.meet - self.miss) <= TOLERANCE * max(abs(self.meet), abs(self.miss),
                                                             1e-12)

    def candidate(self) -> float:
        """The next multiplier to try (never on an end)."""
        self.steps += 1
        width = abs(self.meet - self.miss)
        if self.steps % 3 == 0:
            stalled, self.checkpoint = width > 0.5 * self.checkpoint, width
            if stalled:
                return 0.5 * (self.meet + self.miss)
        t = min(max(-self.f_miss / (self.f_meet - self.f_miss), 0.02), 0.98)
        return self.miss + t * (self.meet - self.miss)

    def update(self, m: float, f: float) -> None:
        """Replace the end on the same side as ``m``; halve the other end's f when the same
        side is replaced twice running (Illinois)."""
        if f > 0:
            if self.side == 1:
                self.f_miss /= 2
            self.meet, self.f_meet, self.side = m, f, 1
        else:
            if self.side == -1:
                self.f_meet /= 2
            self.miss, self.f_miss, self.side = m, f, -1


def _search(f: Callable[[float], float], bracket: _Bracket, first: float) -> _Bracket:
    """Narrow ``bracket`` to :data:`TOLERANCE`, trying ``first`` first when it lies inside."""
    if min(bracket.meet, bracket.miss) < first < max(bracket.meet, bracket.miss):
        bracket.update(first, f(first))
    while not bracket.done() and bracket.steps < MAX_STEPS:
        m = bracket.candidate()
        bracket.update(m, f(m))
    return bracket


def solve(config: Config | str | Path | dict[str, Any], target: str | Target,
          probability: float | str, vary: str, *, within: str | tuple[float, float] | None = None,
          paths: int | None = None, seed: int | None = None, level: float = 0.95
          ) -> Solution:
    """The value of input ``vary`` at which P(``target``) reaches ``probability``.

    Parameters
    ----------
    config
        A config, or a path or dict to load one from.
    target
        ``"METRIC@MONTH OP X"``, e.g. ``"customers@24>=200"``.
    probability
        The probability wanted (0.8, or "80%").
    vary
        The dotted name of the input to scale, e.g. ``"acquisition.visitors"``.
    within
        The range searched: ``(low, high)`` in the input's units (of its mean), or a string
        ``"LOW:HIGH"`` / ``"LOWx:HIGHx"`` (multipliers). Default 0x to 10x (a rate: up to a
        mean of 1).
    paths, seed
        As for :func:`simulator.run`.
    level
        Confidence level of the intervals.

    Raises
    ------
    NoSolution
        When the probability at both ends of the range is below the goal (or both reach it).
    ConfigError
        For a bad target, probability, input or range.
    """
    cfg = config if isinstance(config, Config) else load_config(config)
    goal_target = target if isinstance(target, Target) else parse_target(target, cfg)
    goal = parse_probability(probability)
    inp = varied_input(cfg, vary)
    mean = float(inp.dist.mean())
    span = Span.parse(within) if isinstance(within, str) else \
        (Span(float(within[0]), float(within[1]), False) if within is not None else None)
    low, high = span.multipliers(mean) if span else default_multipliers(inp)
    ev = Evaluator(cfg, goal_target.month, paths=paths, seed=seed,
                   metrics=(goal_target.metric,), sampler="inversion")
    n = ev.paths
    sizes = np.array([len(g) for g in np.array_split(np.arange(n), min(GROUPS, n))])
    labels = np.repeat(np.arange(len(sizes)), sizes)
    curve = _curve(cfg, vary, ev)

    def group_hits(m: Value) -> np.ndarray:
        """Paths meeting the target in each group, every path at its group's multiplier."""
        factor = m if np.ndim(m) == 0 else np.asarray(m)[labels]
        spend = ev.scaled(vary, factor)
        out = ev.run({vary: spend} if curve is None else curve.scaled(factor, spend))
        met = compare(out.at(goal_target.metric), goal_target.op, goal_target.threshold)
        return np.bincount(labels, weights=met, minlength=len(sizes)).astype(np.int64)

    need = math.ceil(goal * n - 1e-9)
    hits_at: dict[float, np.ndarray] = {}  # multiplier -> paths meeting it, by group

    def f(m: float) -> float:
        if m not in hits_at:
            hits_at[m] = group_hits(m)
        return int(hits_at[m].sum()) - need + 0.5

    f_low, f_high = f(low), f(high)
    ends = ((low, float(hits_at[low].sum() / n)), (high, float(hits_at[high].sum() / n)))
    if (f_low > 0) == (f_high > 0):
        raise NoSolution(_no_solution(goal_target, goal, inp.name, ends, mean, f_low > 0),
                         ends)
    rising = f_high > 0
    bracket = _Bracket(high, f_high, low, f_low) if rising else _Bracket(low, f_low, high,
                                                                         f_high)
    answer = _search(f, bracket, 1.0).meet
    replicas = _replicas(group_hits, hits_at, goal, sizes, (low, high), rising)
    return _solution(ev, inp, goal_target, goal, answer, int(hits_at[answer].sum()), replicas,
                     ends, level)


def _replicas(group_hits: Callable[[Value], np.ndarray], hits_at: dict[float, np.ndarray],
              goal: float, sizes: np.ndarray, ends: tuple[float, float], rising: bool
              ) -> np.ndarray:
    """The answer of each group of paths on its own (independent replications of the goal
    seek), the groups searched together: each evaluation runs every path at its group's
    multiplier (under inversion flows a path's counts depend on its own inputs and uniforms
    only). Each group starts from the tightest bracket the main search's evaluations give it;
    a group whose probability does not cross the goal within the range answers with the
    range's end where it falls short."""
    need = np.ceil(goal * sizes - 1e-9)
    tried = sorted(hits_at)
    brackets: dict[int, _Bracket] = {}
    answers = np.empty(len(sizes))
    for g in range(len(sizes)):
        fs = [(m, float(hits_at[m][g] - need[g] + 0.5)) for m in tried]
        meets = [(m, v) for m, v in fs if v > 0]
        misses = [(m, v) for m, v in fs if v < 0]
        if not meets or not misses:  # no crossing in the range
            answers[g] = ends[1] if (not meets) == rising else ends[0]
            continue
        meet = min(meets) if rising else max(meets)
        miss = max(misses) if rising else min(misses)
        brackets[g] = _Bracket(meet[0], meet[1], miss[0], miss[1])
    while True:
        live = [g for g, b in brackets.items() if not b.done() and b.steps < MAX_STEPS]
        if not live:
            break
        factor = np.ones(len(sizes))
        for g in live:
            factor[g] = brackets[g].candidate()
        hits = group_hits(factor)
        for g in live:
            brackets[g].update(float(factor[g]), float(hits[g] - need[g] + 0.5))
    for g, b in brackets.items():
        answers[g] = b.meet
    return answers


def _curve(cfg: Config, vary: str, ev: Evaluator) -> Response | None:
    """The response curve of the paid channel whose spend ``vary`` is, if it is one."""
    for channel in cfg.depth.channels:
        if channel.paid and vary == channel.input("spend"):
            return Response.of(channel, ev)
    return None


def _solution(ev: Evaluator, inp: Input, target: Target, goal: float, answer: float,
              hit_count: int, replicas: np.ndarray, ends: tuple[tuple[float, float], ...],
              level: float) -> Solution:
    n = ev.paths
    k = len(replicas)
    # the answer's standard error: the replications' spread over sqrt(k) (batch means)
    half = float(special.stdtrit(k - 1, 0.5 + level / 2) * np.std(replicas, ddof=1)
                 / math.sqrt(k)) \
        if k > 1 else math.inf
    m_low = max(ends[0][0], answer - half)
    m_high = min(ends[1][0], answer + half)
    mean = float(inp.dist.mean())

    def value(m: float) -> float:
        return float(scaled(inp, mean, m))

    quantiles = None if inp.dist.is_constant else scaled(inp, inp.dist.ppf([0.05, 0.95]),
                                                         answer)
    return Solution(inp.name, target.label, goal, answer, value(answer),
                    None if quantiles is None else float(quantiles[0]),
                    None if quantiles is None else float(quantiles[1]),
                    hit_count / n, wilson_interval(hit_count, n, level),
                    (m_low, m_high), (value(m_low), value(m_high)),
                    (ends[0], ends[1]), n, ev.seed, ev.evaluations, level,
                    tuple(float(r) for r in replicas))


def _no_solution(target: Target, goal: float, name: str, ends: tuple[tuple[float, float], ...],
                 mean: float, everywhere: bool) -> str:
    (m0, p0), (m1, p1) = ends
    where = (f"{p0:.1%} at {shown(m0 * mean)} ({m0:.3g}x) and {p1:.1%} at "
             f"{shown(m1 * mean)} ({m1:.3g}x)")
    if everywhere:
        return (f"{target.label} is at least {goal:.0%} across the whole range of {name}: "
                f"{where}; nothing to solve (narrow --range to find a boundary)")
    if p0 == p1:
        return (f"no value of {name} in the range reaches {target.label} >= {goal:.0%}: "
                f"the probability is {where}; it does not move with {name} in this config")
    return (f"no value of {name} in the range reaches {target.label} >= {goal:.0%}: "
            f"the probability is {where} (widen --range, or ask for less)")
