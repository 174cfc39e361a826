"""The compiled kernel: chosen as documented, the same model as the NumPy kernel (exactly under
expected flows, in law under binomial flows), and the same numbers on any number of workers.

Tolerances come from the Monte Carlo error: every two-sample test compares independent
runs (different seeds) at a per-test level of 1e-4, with fixed seeds so the suite is
deterministic. The tests needing numba skip without it; the choice tests run everywhere."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from scipy import stats

import simulator
from simulator.engine import kernels
from simulator.engine.runner import model_shape, run_block
from tests.conftest import CONSTANT

ALPHA = 1e-4


def _config(**simulation: Any) -> dict[str, Any]:
    """The conftest's constant config with base.toml-like uncertain inputs."""
    cfg = copy.deepcopy(CONSTANT)
    cfg["simulation"].update({"months": 36, "flows": "binomial", "seed": 5, **simulation})
    cfg["acquisition"]["visitors"] = {"dist": "lognormal", "p5": 2000, "p95": 3000}
    cfg["acquisition"]["visitor_growth"] = {"dist": "normal", "mean": 0.02, "sd": 0.01}
    cfg["funnel"][0]["rate"] = {"dist": "beta", "mean": 0.0075, "sd": 0.0015}
    cfg["funnel"][2]["rate"] = {"dist": "pert", "low": 0.1, "mode": 0.2, "high": 0.3}
    cfg["revenue"]["arpa"] = {"dist": "lognormal", "mean": 1500, "sd": 250}
    cfg["retention"]["churn"] = {"dist": "beta", "mean": 0.012, "sd": 0.004}
    cfg["correlations"] = [{"between": ["funnel.customer.rate", "retention.churn"],
                            "rho": -0.3}]
    return cfg


def _run(cfg: dict[str, Any], **options: Any) -> simulator.Result:
    return simulator.run(simulator.load_config(cfg), **options)


def test_choice_names_the_kernel_and_why_not() -> None:
    cfg = _config(kernel="numpy")
    assert _run(cfg, paths=10).kernel == kernels.KernelChoice("numpy")
    segmented = _config(kernel="compiled")
    segmented["segments"] = [{"name": "a", "share": 0.5}, {"name": "b", "share": 0.5}]
    choice = _run(segmented, paths=10).kernel
    assert choice.kernel == "numpy"
    if kernels.available():
        assert choice.note == "the compiled kernel does not cover [[segments]]"
        assert _run(_config(kernel="compiled"), paths=10).kernel == \
            kernels.KernelChoice("compiled")
    # the default: the compiled kernel where numba is installed; a feature it does not
    # cover sends the run to the NumPy kernel, which says why
    default = "compiled" if kernels.available() else "numpy"
    assert _run(_config(), paths=10).kernel == kernels.KernelChoice(default)
    del segmented["simulation"]["kernel"]
    choice = _run(segmented, paths=10).kernel
    assert choice.kernel == "numpy"
    assert choice.note == ("the compiled kernel does not cover [[segments]]"
                           if kernels.available() else "")


def test_without_numba_the_numpy_kernel_runs_and_says_so(monkeypatch: Any) -> None:
    monkeypatch.setattr(kernels, "available", lambda: False)
    asked = _run(_config(kernel="compiled"), paths=10).kernel
    assert asked.kernel == "numpy" and "pip install" in asked.note
    # by default, without numba, the NumPy kernel runs and nothing is said
    assert _run(_config(), paths=10).kernel == kernels.KernelChoice("numpy")


def test_unsupported_features_are_named() -> None:
    cfg = simulator.load_config(_config())
    assert kernels.unsupported(model_shape(cfg)) is None
    assert kernels.unsupported(model_shape(cfg), ("start.cash",)) == \
        'start.cash with vary = "month"'
    long = simulator.load_config(_config(months=2**16))  # the counters' 16 bits of month
    assert kernels.unsupported(model_shape(long)) == "more than 65,535 months"
    early = _config()
    early["retention"].update({"early_churn": 0.05, "early_months": 2})
    assert kernels.unsupported(model_shape(simulator.load_config(early))) == "retention.early_churn"


@pytest.fixture(scope="module")
def numba_installed() -> None:
    pytest.importorskip("numba")


def _month_varying() -> dict[str, Any]:
    cfg = _config(flows="expected", kernel="compiled")
    cfg["revenue"]["expansion"] = {"dist": "normal", "mean": 0.005, "sd": 0.003,
                                   "vary": "month", "persistence": 0.5}
    cfg["costs"]["marketing_growth"] = {"dist": "normal", "mean": 0.02, "sd": 0.01,
                                        "vary": "month"}
    cfg["funnel"][1]["rate"] = {"dist": "beta", "mean": 0.8, "sd": 0.05, "vary": "month"}
    cfg["seasonality"] = {"multipliers": [1.0, 0.9, 1.1, 1.0, 1.2, 0.8, 1.0, 1.0, 0.7, 1.3,
                                          1.0, 1.0], "churn": True}
    cfg["metrics"] = {"cac_window": 4}
    return cfg


@pytest.mark.parametrize("make", [lambda: _config(flows="expected", kernel="compiled"),
                                  _month_varying])
def test_expected_flows_give_the_numpy_kernels_numbers(numba_installed: None, make: Any
                                                       ) -> None:
    """Without randomness in the flows the kernels compute the same numbers (to rounding:
    growth compounds as a running product, NRR as a product): every formula of the month
    loop and of the derived metrics, with month-varying inputs and seasonality."""
    cfg = make()
    compiled = _run(cfg, paths=600)
    cfg["simulation"]["kernel"] = "numpy"
    numpy_ = _run(cfg, paths=600)
    assert compiled.kernel.kernel == "compiled"
    for name in compiled.metrics:
        np.testing.assert_allclose(compiled[name], numpy_[name], rtol=1e-9, atol=1e-9,
                                   err_msg=name)


def test_derived_metrics_match_the_numpy_economics(numba_installed: None) -> None:
    """On the compiled kernel's own random flows, its derived metrics are those of
    :func:`block_economics` (including infinities and the cohort payback search)."""
    from simulator.model.economics import block_economics
    from simulator.model.params import draw_uniforms

    cfg = simulator.load_config(_config(months=30))
    shape = model_shape(cfg)
    params = draw_uniforms(cfg, 3000, 9).parameters()
    out = run_block(shape, "binomial", cfg.cac_window, params, 9, 0, kernel="compiled")
    flows = {name: values.copy() for name, values in out.items()}
    expected = block_economics(shape, params, flows, cfg.cac_window, True)
    for name in ("cac", "cac_payback_months", "ltv", "ltv_to_cac", "runway_months",
                 "burn_multiple", "nrr", "cohort_payback_months"):
        np.testing.assert_allclose(out[name], expected[name], rtol=1e-12, err_msg=name)
    assert np.isinf(out["cac"]).any() and np.isfinite(out["cohort_payback_months"]).any()


def test_kernels_agree_in_law(numba_installed: None) -> None:
    """Two-sample KS tests (independent seeds) on stage counts, customers, MRR and CAC at
    several months; 20,000 paths each. Values are rounded to 1e-4 first: CAC takes a few
    discrete values (spend over a whole number of customers) and the kernels' spend may
    differ in its last bit, which would split each atom of the law in two."""
    cfg = _config(kernel="compiled")
    compiled = _run(cfg, paths=20_000, seed=101)
    cfg["simulation"]["kernel"] = "numpy"
    numpy_ = _run(cfg, paths=20_000, seed=202)
    for name in ("visitors", "lead", "sql", "customer", "churned", "customers", "mrr", "cac",
                 "cash"):
        for month in (1, 12, 36):
            a, b = (np.round(r.at(name, month), 4) for r in (compiled, numpy_))
            finite = np.isfinite(a).mean(), np.isfinite(b).mean()
            p = stats.ks_2samp(a[np.isfinite(a)], b[np.isfinite(b)]).pvalue
            assert p > ALPHA, f"{name}@{month}: KS p = {p:.2g}"
            # the share of infinite CAC (no customer in the window) by a two-proportion z
            pooled = (finite[0] + finite[1]) / 2
            se = np.sqrt(max(pooled * (1 - pooled), 1e-12) * 2 / 20_000)
            assert abs(finite[0] - finite[1]) < 4 * se + 1e-12, f"{name}@{month}: inf share"


def test_same_numbers_on_one_or_two_workers_and_in_reduced_storage(numba_installed: None
                                                                   ) -> None:
    cfg = _config(kernel="compiled")
    one = _run(cfg, paths=9_000, workers=1)
    two = _run(cfg, paths=9_000, workers=2)
    reduced = _run(cfg, paths=9_000, memory=10**6)
    assert one.kernel.kernel == two.kernel.kernel == "compiled"
    assert reduced.reduced
    for name in one.metrics:
        np.testing.assert_array_equal(one[name], two[name], err_msg=name)
        for month in reduced.report_months:
            np.testing.assert_array_equal(one.at(name, month), reduced.at(name, month),
                                          err_msg=f"{name}@{month}")


def test_run_header_names_the_kernel(numba_installed: None, tmp_path: Any) -> None:
    from click.testing import CliRunner

    from simulator.cli.main import simulate

    path = tmp_path / "c.toml"
    path.write_text('[acquisition]\nvisitors = 2000\n[[funnel]]\nstage = "lead"\nrate = 0.01\n'
                    '[revenue]\narpa = 1500\n[retention]\nchurn = 0.02\n')
    for flag, words in ((["--kernel", "compiled"], "compiled kernel"),
                        ([], "compiled kernel"), (["--kernel", "numpy"], "numpy kernel")):
        result = CliRunner().invoke(simulate, [str(path), "--paths", "50", "-q", *flag])
        assert result.exit_code == 0, result.output
        header = result.output.splitlines()[1]
        assert header.endswith(words), header


def test_a_shorter_horizon_keeps_the_first_months(numba_installed: None) -> None:
    """Each path draws its months in order from its own stream (keyed by seed, block and
    path), so cutting the horizon leaves the months before the cut unchanged."""
    long = _run(_config(kernel="compiled"), paths=5_000)
    short = _run(_config(kernel="compiled", months=12), paths=5_000)
    for name in ("visitors", "customer", "churned", "customers", "mrr", "cash"):
        np.testing.assert_array_equal(long[name][:, :12], short[name], err_msg=name)


def test_scenarios_share_a_kernel(numba_installed: None, tmp_path: Any) -> None:
    """Scenarios are compared with common random numbers: when one of them needs the NumPy
    kernel, they all run on it, and each header says why."""
    from click.testing import CliRunner

    from simulator.cli.main import simulate

    core = tmp_path / "core.toml"
    core.write_text('[simulation]\nkernel = "compiled"\n[acquisition]\nvisitors = 2000\n'
                    '[[funnel]]\nstage = "lead"\nrate = 0.01\n'
                    '[revenue]\narpa = 1500\n[retention]\nchurn = 0.02\n')
    shocked = tmp_path / "shocked.toml"
    shocked.write_text(core.read_text() + '[[shocks]]\nname = "gap"\nprobability = 0.1\n'
                       'duration = 2\nimpact = 0.5\ntarget = "acquisition"\n')
    configs = [simulator.load_config(p) for p in (core, shocked)]
    assert {c.simulation.kernel for c in kernels.common(configs)} == {"numpy"}
    assert kernels.common(configs[:1]) == configs[:1]
    result = CliRunner().invoke(simulate, [str(core), str(shocked), "--paths", "50", "-q"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()[1:3]  # both on the NumPy kernel, each says why
    assert lines[0].endswith("numpy kernel (shared with a scenario using [[shocks]])"), lines
    assert lines[1].endswith("numpy kernel (the compiled kernel does not cover [[shocks]])")
    moved, notes = kernels.shared([simulator.load_config(_config(kernel="numpy")),
                                   simulator.load_config(_config())])
    assert [c.simulation.kernel for c in moved] == ["numpy", "numpy"]
    assert notes == ["", "shared with a scenario on the NumPy kernel"]
    result = CliRunner().invoke(simulate, [str(core), "--paths", "50", "-q"])
    assert "compiled kernel" in result.output.splitlines()[1]



def test_a_worker_without_numba_is_one_error(monkeypatch: Any) -> None:
    """A block sent to the compiled kernel where numba cannot be imported (a Dask worker
    without the fast extra) fails with a RunError naming the fix, not an ImportError."""
    import pickle
    import sys

    from simulator.engine.faults import RunError
    from simulator.model.params import draw_uniforms

    config = simulator.load_config(_config(months=3))
    params = draw_uniforms(config, 10, 1).parameters()
    monkeypatch.setitem(sys.modules, "simulator.model.kernel", None)  # import fails
    with pytest.raises(RunError, match="needs numba where the blocks run") as info:
        run_block(model_shape(config), "binomial", 3, params, 1, 0, kernel="compiled")
    assert "--kernel numpy" in str(pickle.loads(pickle.dumps(info.value)))
