"""Faults never hang a run: a dying worker process, signals during a busy or broken pool, a
lost Dask worker or scheduler, and outputs that cannot be written.

Worker deaths are injected through the pool's documented test seam, the environment
variable ``SIMULATOR_FAULT=HOW:BLOCK[:TIMES]`` (see :mod:`simulator.engine.pool`). Every
subprocess runs under a timeout: a hang fails the test instead of the CI job.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

import simulator
from simulator.cli import main
from simulator.engine.execution import BLOCK_PATHS
from simulator.engine.faults import WorkerLost

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "configs" / "base.toml"
PATHS = 2 * BLOCK_PATHS + 500  # three blocks
HANG = 60  # seconds after which a run counts as hung


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(p) for p in (task / "children").read_text().split()]
    return out


def _marked(mark: str) -> list[int]:
    """Live processes whose environment carries ``SIMULATOR_TEST_MARK=mark``."""
    needle = f"SIMULATOR_TEST_MARK={mark}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            pass
    return found


def _wait_for(condition, timeout: float = HANG) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def _cli(args: list[str], fault: str | None = None, **popen) -> tuple[subprocess.Popen, str]:
    mark = uuid.uuid4().hex
    env = {**os.environ, "SIMULATOR_TEST_MARK": mark}
    env.pop("SIMULATOR_FAULT", None)
    if fault:
        env["SIMULATOR_FAULT"] = fault
    proc = subprocess.Popen([sys.executable, "-c", "from simulator.cli import main; main()",
                             *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, **popen)
    return proc, mark


@pytest.fixture(scope="module")
def config():
    return simulator.load_config(BASE)


@pytest.fixture(scope="module")
def undisturbed(config):
    return simulator.run(config, paths=PATHS, seed=11)


@pytest.mark.parametrize("how, memory", [("kill", None), ("segv", None), ("exit", 2**20),
                                         ("memory", None)])
def test_a_dead_workers_block_is_retried_and_the_result_is_identical(
        config, undisturbed, monkeypatch, how, memory):
    monkeypatch.setenv("SIMULATOR_FAULT", f"{how}:1")
    result = simulator.run(config, paths=PATHS, seed=11, workers=2, memory=memory)
    assert result.reduced is (memory is not None)
    for metric in result.metrics:
        for month in result.report_months:
            assert result.at(metric, month).tobytes() == \
                undisturbed.at(metric, month).tobytes(), (metric, month)
        if not result.reduced:
            assert result[metric].tobytes() == undisturbed[metric].tobytes(), metric
    assert _children(os.getpid()) == []


def test_a_block_whose_retry_dies_too_raises_worker_lost(config, monkeypatch):
    monkeypatch.setenv("SIMULATOR_FAULT", "kill:2:2")
    with pytest.raises(WorkerLost, match=r"block 2 \(paths 8,192 to 8,691\).*SIGKILL.*"
                                         r"--memory or use fewer --workers"):
        simulator.run(config, paths=PATHS, seed=11, workers=2)
    assert _children(os.getpid()) == []


def test_a_block_that_runs_out_of_memory_twice_names_memory(config, monkeypatch):
    monkeypatch.setenv("SIMULATOR_FAULT", "memory:0:2")
    with pytest.raises(WorkerLost, match=r"block 0 .*MemoryError.*fewer --workers"):
        simulator.run(config, paths=PATHS, seed=11, workers=2)
    assert _children(os.getpid()) == []


def test_cli_output_after_a_worker_death_is_byte_identical(tmp_path, capsys):
    calm = tmp_path / "calm.csv"
    main([str(BASE), "--paths", str(PATHS), "--seed", "3", "--output", str(calm)])
    hit = tmp_path / "hit.csv"
    proc, mark = _cli([str(BASE), "--paths", str(PATHS), "--seed", "3", "--workers", "2",
                       "--output", str(hit)], fault="kill:0")
    _, err = proc.communicate(timeout=HANG)
    assert proc.returncode == 0, err
    assert hit.read_bytes() == calm.read_bytes()
    assert _marked(mark) == []


def test_cli_block_that_dies_twice_is_one_error_line_and_leaves_nothing(tmp_path):
    out = tmp_path / "out.csv"
    proc, mark = _cli([str(BASE), "--paths", str(PATHS), "--workers", "2", "--output",
                       str(out)], fault="kill:1:2")
    _, err = proc.communicate(timeout=HANG)
    assert proc.returncode == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: block 1 (paths 4,096 to 8,191): "), err
    assert "out-of-memory" in err and "nothing was written" in err
    assert list(tmp_path.iterdir()) == []
    _wait_for(lambda: _marked(mark) == [], 10)


@pytest.mark.parametrize("sig, broken", [(signal.SIGINT, False), (signal.SIGTERM, True)])
def test_signals_end_a_busy_or_broken_pool_with_130(tmp_path, sig, broken):
    out = tmp_path / "out.csv"
    proc, mark = _cli([str(BASE), "--paths", "500000", "--workers", "2", "--output", str(out)],
                      start_new_session=True)
    try:
        _wait_for(lambda: len(_children(proc.pid)) == 2)
        if broken:
            os.kill(_children(proc.pid)[0], signal.SIGKILL)
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)  # Ctrl-C: the whole foreground process group
        else:
            proc.send_signal(sig)
        _, err = proc.communicate(timeout=HANG)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["error: interrupted; nothing was written"]
    assert list(tmp_path.iterdir()) == []
    _wait_for(lambda: _marked(mark) == [], 10)


# ---------------------------------------------------------------- output faults


def _limited(args: list[str], size: int) -> tuple[int, str]:
    """``simulate ARGS`` in a child process under a ``size``-byte file-size limit (Python
    ignores SIGXFSZ, so writes fail with EFBIG): (exit status, stderr). A child, because
    the limit would also stop this process writing its own output to a log file."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE,
                           (size, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    code = "import sys; from simulator.cli import main; main(sys.argv[1:])"
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=HANG, preexec_fn=limit, cwd=ROOT)
    return done.returncode, done.stderr


@pytest.mark.parametrize("flag, name", [
    ("--output", "out.csv"), ("--output", "out.json"), ("--output", "out.parquet"),
    ("--output", "out.html"), ("--plot", "fan.png"), ("--paths-out", "paths.csv")])
def test_an_output_over_the_file_size_limit_is_one_error_and_no_file(tmp_path, flag, name):
    code, err = _limited([str(BASE), "--paths", "300", flag, str(tmp_path / name)], 4096)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"error: {tmp_path / name}: cannot write"), err
    assert "File too large" in err
    assert list(tmp_path.iterdir()) == []


def test_outputs_are_all_or_nothing(tmp_path):
    """The table fits under the limit, the trajectories do not: neither is left."""
    code, err = _limited([str(BASE), "--paths", "300", "--output", str(tmp_path / "out.md"),
                          "--paths-out", str(tmp_path / "paths.csv")], 40_000)
    assert code == 2 and "paths.csv: cannot write" in err
    assert list(tmp_path.iterdir()) == []


def test_ulimit_in_a_shell_gives_the_same_clean_error(tmp_path):
    out = tmp_path / "out.json"
    command = (f"ulimit -f 2 && exec {sys.executable} -c 'from simulator.cli import main; "
               f"main()' {BASE} --paths 300 --output {out}")
    proc = subprocess.run(["bash", "-c", command], capture_output=True, text=True,
                          timeout=HANG, cwd=ROOT)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"error: {out}: cannot write it: File too large")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def tiny_disk(tmp_path):
    """A 16 KB tmpfs (needs root and a kernel that lets this process mount; else skipped)."""
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    where = tmp_path / "tiny"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(where)],
                             capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


def test_a_full_disk_is_one_error_and_no_file(tiny_disk, capsys):
    out = tiny_disk / "out.json"
    with pytest.raises(SystemExit) as info:
        main([str(BASE), "--paths", "300", "--output", str(out)])
    assert info.value.code == 2
    assert capsys.readouterr().err == (f"error: {out}: cannot write it: No space left on "
                                       f"device (nothing was written)\n")
    assert list(tiny_disk.iterdir()) == []


# ---------------------------------------------------------------- Dask


def test_a_lost_dask_worker_does_not_change_the_result(config):
    distributed = pytest.importorskip("distributed")
    from simulator.engine.execution import Execution

    local = simulator.run(config, paths=8 * 1024, seed=5,
                          execution=Execution(block_paths=1024))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        pids = client.run(os.getpid)
        victim = next(iter(pids.values()))

        def kill_one(done: int, total: int) -> None:
            if done == 1024:
                os.kill(victim, signal.SIGKILL)

        remote = simulator.run(config, paths=8 * 1024, seed=5, progress=kill_one,
                               execution=Execution(client=client, block_paths=1024))
        with pytest.raises(ProcessLookupError):  # it was killed (and reaped by its nanny)
            os.kill(victim, 0)
    for metric in local.metrics:
        assert remote[metric].tobytes() == local[metric].tobytes(), metric


def test_a_frozen_or_lost_dask_scheduler_is_one_error_not_a_hang(config):
    distributed = pytest.importorskip("distributed")
    from simulator.engine.execution import Execution
    from simulator.engine.faults import SchedulerLost

    port = 20000 + os.getpid() % 20000
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler",
                                  "--host", "127.0.0.1", "--port", str(port),
                                  "--no-dashboard"], stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address,
                               "--nthreads", "1", "--no-dashboard"], stderr=subprocess.DEVNULL)
    try:
        for how in (signal.SIGSTOP, signal.SIGKILL):  # frozen (no answer), then gone
            client = distributed.Client(address, timeout=HANG)
            client.wait_for_workers(1, timeout=HANG)

            def stop_it(done: int, total: int, how: int = how) -> None:
                if done == 1024:
                    os.kill(scheduler.pid, how)

            started = time.monotonic()
            why = "no answer for 2 seconds" if how == signal.SIGSTOP else ""
            with pytest.raises(SchedulerLost, match=f"scheduler at {address} went away \\({why}"):
                simulator.run(config, paths=8 * 1024, seed=5, progress=stop_it,
                              execution=Execution(client=client, block_paths=1024,
                                                  scheduler_timeout=1))
            assert time.monotonic() - started < HANG
            os.kill(scheduler.pid, signal.SIGCONT)
            client.close(timeout=1)
    finally:
        for proc in (scheduler, worker):
            proc.kill()
            proc.wait()


def test_scheduler_timeout_flag_is_checked(capsys):
    with pytest.raises(SystemExit) as info:
        main([str(BASE), "--scheduler-timeout", "0"])
    assert info.value.code == 2
    assert capsys.readouterr().err.startswith("error: --scheduler-timeout: must be")


def test_fault_seam_rejects_a_bad_value():
    from simulator.engine.pool import Fault

    assert Fault.parse("segv:4") == Fault("segv", 4, 1)
    with pytest.raises(ValueError, match="HOW:BLOCK"):
        Fault.parse("explode:1")
    assert Fault("kill", 2, 2).due(2, 1) == "kill" and Fault("kill", 2, 2).due(2, 2) is None
    assert np.isscalar(Fault("kill", 2).block)
