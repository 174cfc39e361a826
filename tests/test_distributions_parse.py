"""``parse``'s caller keys, nested specs and relative paths (the parser/family seam)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from distributions import Distribution, DistributionError, parse
from distributions.mixture import Mixture
from distributions.spec import FAMILIES

NORMAL = {"dist": "normal", "mean": 0, "sd": 1}
CALLER = "is a per-input option handled by the caller, not a distribution parameter"


def test_caller_keys_are_the_callers_choice() -> None:
    with pytest.raises(DistributionError) as info:
        parse({**NORMAL, "vary": "month"})  # the library knows no caller options by default
    assert info.value.param == "vary"
    assert info.value.reason.startswith("unknown parameter for normal")
    for keys in (("vary", "persistence"), ["vary"], {"vary"}, "vary"):
        with pytest.raises(DistributionError) as info:
            parse({**NORMAL, "vary": "month"}, caller_keys=keys)
        assert (info.value.param, info.value.reason) == ("vary", CALLER)
    with pytest.raises(DistributionError) as info:  # a one-key string is not its letters
        parse({**NORMAL, "a": 1}, caller_keys="vary")
    assert info.value.reason.startswith("unknown parameter")


def test_caller_keys_reach_mixture_components() -> None:
    spec = {"dist": "mixture", "weights": [0.5, 0.5],
            "components": [1, {**NORMAL, "persistence": 0.5}]}
    with pytest.raises(DistributionError) as info:
        parse(spec, caller_keys=("vary", "persistence"))
    assert (info.value.param, info.value.reason) == ("components[1].persistence", CALLER)
    with pytest.raises(DistributionError) as info:
        parse(spec)
    assert info.value.param == "components[1].persistence"
    assert "unknown parameter" in info.value.reason


def test_parser_hands_built_components_to_mixture(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("x\n1\n2\n3\n")
    spec = {"dist": "mixture", "weights": [0.25, 0.75],
            "components": [{"dist": "empirical", "file": "h.csv", "column": "x"}, 10]}
    m = parse(spec, base_dir=tmp_path)  # the nested relative path uses the same base_dir
    assert isinstance(m, Mixture)
    assert m.mean() == pytest.approx(0.25 * 2 + 0.75 * 10)
    assert m.describe() == "mixture(components=[empirical(source=h.csv:x, n=3, min=1, max=3), " \
                           "constant(value=10)], weights=[0.25, 0.75])"
    # built directly, the family takes distributions, not specs
    direct = Mixture.from_params({"components": list(m.components), "weights": [0.25, 0.75]})
    np.testing.assert_array_equal(direct.ppf([0.1, 0.5, 0.9]), m.ppf([0.1, 0.5, 0.9]))
    with pytest.raises(DistributionError, match="non-empty list of distributions"):
        Mixture.from_params({"components": [NORMAL], "weights": [1.0]})


def test_families_need_no_base_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "h.csv").write_text("x\n4\n6\n")
    monkeypatch.chdir(tmp_path)  # Empirical.from_params reads relative paths from the cwd
    d = FAMILIES["empirical"].from_params({"file": "h.csv", "column": "x"})
    assert d.mean() == 5.0
    assert {name for name, cls in FAMILIES.items() if cls.paths} == {"empirical"}
    assert {name for name, cls in FAMILIES.items() if cls.nested} == {"mixture"}
    absolute = parse({"dist": "empirical", "file": str(tmp_path / "h.csv"), "column": "x"},
                     base_dir="/nonexistent")
    assert isinstance(absolute, Distribution) and absolute.mean() == 5.0


def test_mixture_module_does_not_import_the_parser() -> None:
    source = Path(__file__).parents[1] / "distributions" / "mixture.py"
    assert "spec" not in {line.split()[1].lstrip(".") for line in source.read_text().splitlines()
                          if line.startswith(("from ", "import "))}
