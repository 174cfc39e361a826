"""The engine's public face: an explicit Execution, keyword-only options, and library code
that neither prints nor touches process-wide state (umask, the caller's generator)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

import simulator
from distributions.joint import root_seed
from simulator.engine.execution import Execution
from simulator.review.io import OutputError, OutputFiles, atomic_write

ROOT = Path(__file__).resolve().parents[1]


def _config(**simulation):
    return simulator.load_config({
        "simulation": {"paths": 30, "months": 6, **simulation},
        "acquisition": {"visitors": 2000},
        "funnel": [{"stage": "lead", "rate": 0.01}, {"stage": "customer", "rate": 0.2}],
        "revenue": {"arpa": 1500}, "retention": {"churn": 0.02}})


def test_a_drawn_seed_is_on_the_result_and_nothing_is_printed(capsys):
    result = simulator.run(_config())
    assert result.seed_drawn and isinstance(result.seed, int)
    assert capsys.readouterr() == ("", "")
    again = simulator.run(_config(), seed=result.seed)
    assert not again.seed_drawn
    np.testing.assert_array_equal(result["mrr"], again["mrr"])
    assert not simulator.run(_config(seed=4)).seed_drawn


def test_options_after_paths_and_seed_are_keyword_only():
    config = _config(seed=1)
    with pytest.raises(TypeError):
        simulator.run(config, 30, 1, 2)  # workers given by position
    with pytest.raises(TypeError, match="either execution or workers"):
        simulator.run(config, execution=Execution(workers=2), workers=2)
    a = simulator.run(config, 30, 1)
    b = simulator.run(config, paths=30, seed=1, execution=Execution(workers=2))
    np.testing.assert_array_equal(a["customers"], b["customers"])


def test_execution_checks_its_fields():
    with pytest.raises(ValueError, match="block_paths"):
        Execution(block_paths=0)
    with pytest.raises(ValueError, match="scheduler_timeout"):
        Execution(scheduler_timeout=0)
    assert Execution(workers="auto").processes(1) == 1
    assert Execution(workers=4).processes(3) == 3


def test_block_size_is_an_execution_choice_and_paths_cover_every_block():
    config = _config(seed=2)
    small = simulator.run(config, paths=25, execution=Execution(block_paths=7, workers=2))
    again = simulator.run(config, paths=25, execution=Execution(block_paths=7))
    np.testing.assert_array_equal(small["customers"], again["customers"])
    assert small["customers"].shape == (25, 6)


def test_writing_a_file_does_not_touch_the_umask(tmp_path, monkeypatch):
    def forbidden(mask):
        raise AssertionError("os.umask is process-wide: library code must not call it")

    old = os.umask(0o027)
    try:
        monkeypatch.setattr(os, "umask", forbidden)
        atomic_write(tmp_path / "new.txt", "x")
        assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o640
        existing = tmp_path / "kept.txt"
        existing.write_text("old")
        existing.chmod(0o600)
        atomic_write(existing, "new")
        assert stat.S_IMODE(existing.stat().st_mode) == 0o600
    finally:
        monkeypatch.undo()
        os.umask(old)


def test_output_files_are_all_or_none(tmp_path):
    with pytest.raises(OutputError, match="missing"), OutputFiles() as files:
        files.stage(tmp_path / "a.csv", "a")
        files.stage(tmp_path / "missing" / "b.csv", "b")
    assert list(tmp_path.iterdir()) == []


def test_root_seed_does_not_consume_the_callers_generator():
    rng = np.random.default_rng(9)
    first = root_seed(rng)
    assert root_seed(rng).entropy == first.entropy
    assert rng.random() == np.random.default_rng(9).random()
