"""Risk reviews say everything they were asked, the same way in every format (issue 15).

A two-scenario review that uses every section (--ci, targets, sensitivity, shocks,
correlations) is rendered in every format; each test fails if a section goes missing again.
"""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simulator
from simulator.cli import main
from simulator.review import charts, outputs
from simulator.review.analysis import Target
from simulator.review.cells import pct
from simulator.review.contents import Review
from simulator.review.variance import first_order_shares, reading
from tests.conftest import browse, needs_chromium

ROOT = Path(__file__).resolve().parents[1]
SHOCK = """
[[shocks]]
name = "brand_gap"
probability = 0.05
duration = 1
impact = { dist = "pert", low = 0.8, mode = 0.85, high = 0.9 }
target = "acquisition"
"""
ASKED = ["--paths", "600", "--ci", "80", "--target", "arr@24>=1200000", "--target",
         "customers@12>=55", "--sensitivity", "cac_payback_months@12", "--quiet"]


@pytest.fixture
def pair(tmp_path) -> list[str]:
    """base and downside, both with a shock."""
    out = []
    for name in ("base", "downside"):
        path = tmp_path / f"{name}.toml"
        path.write_text((ROOT / "configs" / f"{name}.toml").read_text() + SHOCK)
        out.append(str(path))
    return out


def _cli(capsys, *argv: object) -> tuple[str, str]:
    try:
        main([str(a) for a in argv])
    except SystemExit as exc:
        assert exc.code in (0, None), capsys.readouterr().err
    captured = capsys.readouterr()
    return captured.out, captured.err


def _review(pair: list[str], **asked) -> Review:
    configs = [simulator.load_config(p) for p in pair]
    results = {Path(p).stem: simulator.run(c, paths=600, seed=7)
               for p, c in zip(pair, configs, strict=True)}
    metrics, months = configs[0].metrics, configs[0].simulation.months
    targets = tuple(Target.parse(t, metrics, months) for t in asked.get("targets", ()))
    return Review(results, targets, asked.get("ci"), asked.get("sensitivity"))


def test_every_format_carries_every_section(capsys, pair):
    text, _ = _cli(capsys, *pair, *ASKED)
    md, _ = _cli(capsys, *pair, *ASKED, "--format", "markdown")
    csv, _ = _cli(capsys, *pair, *ASKED, "--format", "csv")
    doc = json.loads(_cli(capsys, *pair, *ASKED, "--format", "json")[0])
    for month in (12, 24, 36):
        for out in (text, md):
            assert f"Month {month}: scenarios side by side" in out
    for out in (text, md):
        assert "± 80%" in out  # --ci in the side-by-side table
        assert "80% Wilson interval" in out and "95% Wilson" not in out
        for name in ("base", "downside"):
            assert f"Shocks ({name})" in out
            assert f"Sensitivity of cac_payback_months at month 12 ({name})" in out
            assert re.search(rf"{name}[ |]+P\(arr@24 >= 1,200,000\)", out)
    for name in ("base", "downside"):
        for title in (f"Month 12 ({name})", f"Monte Carlo error at month 36 ({name})",
                      f"Headline probabilities at month 24 ({name})", f"Assumptions ({name})",
                      f"Correlations ({name})"):
            assert f"## {title}" in md
    frame = pd.read_csv(io.StringIO(csv))
    for name in ("base", "downside"):
        sections = set(frame[frame.scenario == name].section)
        assert sections == {"percentiles", "probabilities", "targets", "sensitivity", "shocks",
                            "assumptions"}
    assert {"p50_low", "p50_high", "mean_se"} <= set(frame.statistic)
    assert set(doc) == {"scenarios", "headlines", "status"}
    for name in ("base", "downside"):
        scenario = doc["scenarios"][name]
        assert {"tables", "intervals", "probabilities", "targets", "shocks", "sensitivity",
                "assumptions"} <= set(scenario)
        assert scenario["confidence"] == 0.8 and scenario["targets"][0]["confidence"] == 0.8


def test_one_json_shape_for_one_or_several_configs(capsys, pair):
    one = json.loads(_cli(capsys, pair[0], "--paths", "200", "--format", "json")[0])
    two = json.loads(_cli(capsys, *pair, "--paths", "200", "--format", "json")[0])
    assert set(one) == set(two) == {"scenarios", "headlines", "status"}
    assert set(one["scenarios"]["base"]) == set(two["scenarios"]["base"])


def test_documents_render_every_section(pair):
    review = _review(pair, ci=0.9, targets=("arr@24>=1200000",),
                     sensitivity=("cac_payback_months", 12))
    keys = {s.key for s in review.sections}
    assert keys == {"comparison", "percentiles", "error", "probabilities", "shocks",
                    "targets", "sensitivity", "assumptions", "correlations"}
    md = outputs.render(review, "markdown")
    page = outputs.render(review, "html", b"\x89PNG fake")
    text = outputs.render(review, "table")
    assert isinstance(md, str) and isinstance(page, str) and isinstance(text, str)
    for section in review.sections:
        assert f"## {section.title}" in md
        assert f"<h3>{section.title}</h3>".replace("&", "&amp;") in page
        if section.detail or section.document_only:
            assert "full percentile tables" in text
        else:
            assert f"\n{section.title}\n" in text
        for row in section.rows:
            assert row[-1].strip() in md  # every row's last cell is shown
        if section.reading:  # shown under its table in every document
            assert f"**{section.reading}**" in md
            assert f"<p class='reading'>{html.escape(section.reading)}</p>" in page
            assert " ".join(section.reading.split()) in " ".join(text.split())
    assert sum(bool(s.reading) for s in review.sections) == 2  # a sensitivity per scenario


def test_report_and_plot_are_rendered_once(capsys, pair, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    calls = []
    original = charts.render_png
    monkeypatch.setattr(charts, "render_png", lambda *a: calls.append(1) or original(*a))
    _cli(capsys, *pair, "--paths", "300", "--report", tmp_path / "r.html", "--plot",
         tmp_path / "r.png", "--quiet")
    assert len(calls) == 1
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"


def test_tables_a_cfo_reads_without_a_guide(capsys, base_toml):
    text, _ = _cli(capsys, base_toml, "--paths", "500", "--at", "12", "--quiet")
    rows = {line.split()[0]: line.split()[2:] for line in _block(text, "Month 12")[1:]}
    assert "customer" not in rows and "revenue" not in rows  # not printed twice
    assert "new_customers" in rows and "mrr" in rows
    for metric in ("lead", "sql", "new_customers", "churned", "customers"):
        assert all(re.fullmatch(r"[\d,]+", cell) for cell in rows[metric][:-1]), rows[metric]
    assert "new_customers is the last funnel stage (customer)" in text
    csv, _ = _cli(capsys, base_toml, "--paths", "500", "--at", "12", "--format", "csv")
    assert {"customer", "revenue"} <= set(pd.read_csv(io.StringIO(csv)).metric)


def _block(text: str, title: str) -> list[str]:
    """The table lines under ``title`` (notes, indented, left out)."""
    block = text.split(f"\n{title}\n")[1].split("\n\n")[0].splitlines()
    return [line for line in block if not line.startswith("  ")]


def test_long_names_keep_columns_aligned(capsys, tmp_path, base_toml):
    long = "a_very_long_stage_name_that_used_to_break_the_table"
    path = tmp_path / "long.toml"
    path.write_text(base_toml.read_text().replace('stage = "sql"', f'stage = "{long}"')
                    .replace("funnel.customer.rate", f"funnel.{long}.rate"))
    text, _ = _cli(capsys, path, "--paths", "300", "--at", "12", "--sensitivity",
                   "customers@12", "--quiet")
    table = _block(text, "Month 12")
    assert any(line.startswith(long) for line in table)
    assert len({len(line) for line in table}) == 1, table  # every row ends in one column
    tornado = _block(text, "Sensitivity of customers at month 12")
    stop = tornado[0].index("var %") + len("var %")
    assert all(line[stop - 1] != " " and line[stop] == " " for line in tornado[1:]), tornado


def test_sensitivity_says_cannot_tell(capsys):
    down = str(ROOT / "configs" / "downside.toml")
    text, _ = _cli(capsys, down, "--paths", "2000", "--sensitivity",
                   "cac_payback_months@12", "--quiet")
    rows = _block(text, "Sensitivity of cac_payback_months at month 12")[1:]
    # input, spearman, var %, alone explains, "low% - high%", median lo, median hi, swing
    both_inf = [row for row in rows if row.split()[7:9] == ["inf", "inf"]]
    assert both_inf and all("cannot tell" in row for row in both_inf)


def test_all_constant_config_has_nothing_to_rank(constant_config):
    result = simulator.run(simulator.load_config(constant_config))
    review = Review({"flat": result}, sensitivity_of=("customers", 12))
    text = outputs.render(review, "table")
    assert isinstance(text, str)
    assert "nothing is uncertain" in text


def test_shocks_block_uses_one_unit(pair):
    review = _review(pair)
    shocks = [s for s in review.sections if s.key == "shocks"]
    assert len(shocks) == 2
    for section in shocks:
        assert all(cell.endswith("%") for row in section.rows for cell in row[1:])


def test_assumptions_show_what_was_written_and_what_differs(pair):
    review = _review(pair)
    base, down = (s for s in review.sections if s.key == "assumptions")
    rows = {row[0]: row for row in base.rows}
    assert rows["funnel.customer.rate"][1] == "beta: p5 28%, p95 52%"
    assert rows["funnel.mql.rate"][1] == "pert: low 70%, mode 80%, high 90%"
    assert "retention.early_churn" not in rows  # a default the model does not use
    assert not base.marked
    changed = {down.rows[r][0] for r, _ in down.marked}
    assert "retention.churn" in changed and "costs.sales" not in changed
    assert any(s.key == "correlations" for s in review.sections)


def test_nrr_is_undefined_without_customers_a_year_before(capsys, base_toml):
    text, _ = _cli(capsys, base_toml, "--paths", "300", "--at", "12,24", "--set",
                   "start.customers=0", "--set", "start.mrr=0", "--quiet")
    nrr = next(line for line in _block(text, "Month 12") if line.startswith("nrr"))
    assert nrr.split()[2:] == ["n/a"] * 8
    assert "nrr is undefined (n/a) on 100.0% of paths" in text
    doc = json.loads(_cli(capsys, base_toml, "--paths", "300", "--at", "12", "--set",
                          "start.customers=0", "--set", "start.mrr=0", "--format",
                          "json")[0])
    assert doc["scenarios"]["base"]["tables"]["12"]["nrr"]["p50"] is None


def test_precision_short_of_its_target_says_so(capsys, base_toml):
    out, err = _cli(capsys, base_toml, "--paths", "500", "--precision", "0.1%",
                    "--max-paths", "1000", "--format", "json", "--quiet")
    assert "warning: --precision 0.10% not reached" in err
    status = json.loads(out)["status"]
    assert status["converged"] is False and status["precision"]["paths"] == 1000
    assert status["warnings"][0].startswith("--precision 0.10% not reached")  # as on stderr
    text, _ = _cli(capsys, base_toml, "--paths", "500", "--precision", "0.1%",
                   "--max-paths", "1000", "--quiet")
    assert "NOT reached" in text


def test_exploding_numbers_warn(capsys, base_toml):
    out, err = _cli(capsys, base_toml, "--paths", "300", "--months", "600", "--at", "600",
                    "--format", "json", "--quiet")
    assert "warning: base: the numbers explode" in err
    assert json.loads(out)["status"]["warnings"]


def test_histograms_share_bins_and_payback_is_not_capped(pair):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    review = _review(pair, sensitivity=("cac_payback_months", 12))
    panels = charts.panels(review, outputs.plans(review))
    assert len(panels) == 4 + 2 * 2 + 2  # fans, two histograms and a tornado per scenario
    fig = Figure()
    axes = fig.subplots(1, len(panels))
    for ax, panel in zip(axes, panels, strict=True):
        panel(ax)
    titles = [ax.get_title() for ax in axes]
    assert len(set(titles)) == len(titles)
    assert sum("downside" in t for t in titles) == 3  # its histograms and tornado
    for metric in ("customers", "mrr"):
        hist = [ax for ax in axes if f"[{metric}] at report months" in ax.get_title()]
        edges = [{tuple(np.unique(p.get_path().vertices[:, 0])) for p in ax.patches}
                 for ax in hist]
        assert len(hist) == 2 and len(edges[0] | edges[1]) == 1  # one set of bins
    payback = next(ax for ax in axes if "[cac_payback_months]" in ax.get_title())
    for line in payback.get_lines():
        assert np.isfinite(np.asarray(line.get_ydata(), dtype=float)).any()
    shares = [line for line in payback.figure.axes if line is not payback
              and "infinite payback" in line.get_ylabel()]
    assert shares  # the share of paths with an infinite payback, on its own axis


@needs_chromium
def test_two_scenario_report_in_headless_chromium(capsys, pair, tmp_path):
    pytest.importorskip("matplotlib")
    report = tmp_path / "review.html"
    _cli(capsys, *pair, *ASKED, "--report", report)
    seen = browse(report)
    problems, images, h2, h3 = seen["problems"], seen["images"], seen["h2"], seen["h3"]
    visible, marked = seen["text"], seen["marked"]
    assert problems == []
    assert len(images) == 1 and images[0][0] > 1000 and images[0][1] > 2000 and images[0][2]
    for name in ("base", "downside"):
        assert f"Headline percentiles: {name}" in h2 and f"Assumptions: {name}" in h2
        for title in (f"Month 12 ({name})", f"Monte Carlo error at month 24 ({name})",
                      f"Shocks ({name})", f"Assumptions ({name})",
                      f"Sensitivity of cac_payback_months at month 12 ({name})"):
            assert title in h3
    assert {"Scenarios side by side", "Targets", "Charts", "Shocks"} <= set(h2)
    assert "80% Wilson interval" in visible and "95% Wilson" not in visible
    assert "± 80%" in visible and "CAC payback (months)" in visible
    assert marked > 0  # what the downside changes is highlighted


# --- what to measure next: first-order variance shares beside the rank correlations ---------

SHARES = ("first_order_share", "first_order_low", "first_order_high")


def _shares_of(pair: list[str], level: float) -> dict[str, pd.DataFrame]:
    """The oracle: first_order_shares on the runs the CLI makes (600 paths, seed 7)."""
    return {Path(p).stem: first_order_shares(
        simulator.run(simulator.load_config(p), paths=600, seed=7), "cac_payback_months",
        12, level=level) for p in pair}


def test_every_format_carries_the_first_order_shares(capsys, pair, tmp_path):
    """Fails if the shares, their intervals or the reading go missing from any format."""
    asked = [*ASKED, "--seed", "7"]
    text, _ = _cli(capsys, *pair, *asked)
    md, _ = _cli(capsys, *pair, *asked, "--format", "markdown")
    csv, _ = _cli(capsys, *pair, *asked, "--format", "csv")
    doc = json.loads(_cli(capsys, *pair, *asked, "--format", "json")[0])
    _cli(capsys, *pair, *asked, "--output", tmp_path / "review.html")
    page = (tmp_path / "review.html").read_text()
    frame = pd.read_csv(io.StringIO(csv))
    oracle = _shares_of(pair, 0.8)  # --ci 80: the shares' intervals are 80% too
    for name, shares in oracle.items():
        title = f"Sensitivity of cac_payback_months at month 12 ({name})"
        sentence = reading(shares)
        assert sentence.startswith("measuring ") and "exactly would remove about" in sentence
        shown = f"M{sentence[1:]}; no single input explains"
        table = _block(text, title)
        assert re.split(r"\s{2,}", table[0])[3:5] == ["alone explains", "80% interval"]
        after = text.split(f"\n{title}\n")[1].split("\n\n")[0]
        assert shown in " ".join(after.split())  # the reading, wrapped under the table
        md_part = md.split(f"## {title}\n")[1].split("\n## ")[0]
        assert md_part.startswith("\n| input | spearman | var % | alone explains | 80% interval |")
        assert f"**{shown}" in md_part
        html_part = page.split(f"<h3>{title}</h3>")[1].split("<h3>")[0]
        assert "<th>alone explains</th><th>80% interval</th>" in html_part
        assert f"<p class='reading'>{html.escape(shown)}" in html_part
        for inp, row in shares.iterrows():  # every share and its interval, as shown
            share, interval = pct(row["share"]), f"{pct(row['low'])} - {pct(row['high'])}"
            line = next(line for line in table if line.split()[0] == inp)
            assert re.split(r"\s{2,}", line)[3:5] == [share, interval], line
            assert f"| {inp} | " in md_part and f" | {share} | {interval} | " in \
                next(line for line in md_part.splitlines() if line.startswith(f"| {inp} |"))
            html_row = html_part.split(f"<td class='l'>{inp}</td>")[1].split("</tr>")[0]
            assert f"<td>{share}</td><td>{interval}</td>" in html_row
        mine = frame[(frame.scenario == name) & (frame.section == "sensitivity")]
        for inp, row in shares.iterrows():
            got = mine[mine.input == inp].set_index("statistic").value
            assert [got[s] for s in SHARES] == [row["share"], row["low"], row["high"]]
            entry = doc["scenarios"][name]["sensitivity"]["inputs"][inp]
            assert [entry[s] for s in SHARES] == [row["share"], row["low"], row["high"]]
        unexplained = mine[mine.statistic == "first_order_unexplained"].value
        assert unexplained.item() == shares.attrs["unexplained"]
        sensitivity = doc["scenarios"][name]["sensitivity"]
        assert sensitivity["reading"] == sentence
        assert sensitivity["first_order"] == {"level": 0.8, "scale": shares.attrs["scale"],
                                              "unexplained": shares.attrs["unexplained"]}


def test_shown_shares_are_first_order_shares(pair):
    """Oracle: every cell and number the review shows is first_order_shares' output."""
    review = _review(pair, ci=0.9, sensitivity=("cac_payback_months", 12))
    oracle = _shares_of(pair, 0.9)
    tidy = review.tidy()
    for name, shares in oracle.items():
        pd.testing.assert_frame_equal(review.shares[name], shares)
        assert review.shares[name].attrs == shares.attrs
        section = next(s for s in review.sections
                       if s.key == "sensitivity" and s.scenario == name)
        assert section.header[3:5] == ("alone explains", "90% interval")
        shown = {row[0]: row[3:5] for row in section.rows}
        assert set(shown) == set(shares.index) == set(review.tornado[name].index)
        for inp, row in shares.iterrows():
            assert shown[inp] == (pct(row["share"]), f"{pct(row['low'])} - {pct(row['high'])}")
        assert [row[0] for row in section.rows] == list(review.tornado[name].index)
        assert section.reading.startswith("M" + reading(shares)[1:] + "; ")
        mine = tidy[(tidy.scenario == name) & (tidy.section == "sensitivity")]
        stats = mine.pivot(index="input", columns="statistic", values="value")
        pd.testing.assert_frame_equal(
            stats.loc[shares.index, list(SHARES)].rename_axis(columns=None),
            shares.rename(columns=lambda c: f"first_order_{c}"), check_names=False)


def test_same_seed_same_shares(capsys, base_toml):
    """The bootstrap's generator comes from the run's seed: same seed, identical output."""
    argv = [base_toml, "--paths", "800", "--sensitivity", "customers@24", "--quiet"]
    np.random.seed(1)  # the global generator plays no part
    first = _cli(capsys, *argv, "--seed", "11", "--format", "json")[0]
    np.random.seed(2)
    again = _cli(capsys, *argv, "--seed", "11", "--format", "json")[0]
    other = _cli(capsys, *argv, "--seed", "12", "--format", "json")[0]
    assert first == again
    inputs = [json.loads(out)["scenarios"]["base"]["sensitivity"]["inputs"]
              for out in (first, other)]
    assert inputs[0]["retention.churn"]["first_order_low"] != \
        inputs[1]["retention.churn"]["first_order_low"]
    assert _cli(capsys, *argv, "--seed", "11")[0] == _cli(capsys, *argv, "--seed", "11")[0]
    result = simulator.run(simulator.load_config(base_toml), paths=800, seed=11)
    a = Review({"base": result}, sensitivity_of=("customers", 24)).shares["base"]
    b = Review({"base": result}, sensitivity_of=("customers", 24)).shares["base"]
    pd.testing.assert_frame_equal(a, b)


def test_undefined_metric_has_no_shares(capsys, base_toml):
    """NRR with no customers a year before is undefined on every path: nothing to share out,
    and no reading (the paths where a metric is undefined are left out, as in the tornado)."""
    out, _ = _cli(capsys, base_toml, "--paths", "300", "--set", "start.customers=0", "--set",
                  "start.mrr=0", "--sensitivity", "nrr@12", "--format", "json", "--quiet")
    sensitivity = json.loads(out)["scenarios"]["base"]["sensitivity"]
    assert sensitivity["inputs"] == {} and sensitivity["reading"] is None
