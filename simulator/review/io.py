"""Safe outputs: every file is written whole or not at all (temporary file, then rename)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..config.errors import ConfigError


def check_writable(path: str | Path, flag: str = "--output") -> Path:
    """Fail early, before any simulation, when ``path`` cannot be written."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise ConfigError("", f"directory {str(directory)!r} does not exist (got {str(target)!r})",
                          flag)
    if not os.access(directory, os.W_OK):
        raise ConfigError("", f"directory {str(directory)!r} is not writable", flag)
    if target.is_dir():
        raise ConfigError("", f"{str(target)!r} is a directory, not a file", flag)
    return target


def require(module: str, extra: str, purpose: str, flag: str) -> None:
    """Fail with one clean line when an optional dependency is missing."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        raise ConfigError("", f"{purpose} need {module}: pip install "
                              f"'funnel-montecarlo[{extra}]'", flag) from None


def _mode(target: Path) -> int:
    """The existing file's permissions, else the usual ones for a new file (umask applied)."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write(path: str | Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same directory is
    written, flushed and renamed over ``path``; on any failure it is removed."""
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                               dir=target.parent if str(target.parent) else ".")
    try:
        os.chmod(tmp, _mode(target))
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
