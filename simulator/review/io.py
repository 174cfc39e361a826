"""Safe outputs: every file is written whole or not at all (temporary file, then rename)."""

from __future__ import annotations

import os
import secrets
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


class OutputError(OSError):
    """An output file that could not be written (a full disk, a file-size limit, a quota);
    nothing of it, nor of the other files written with it, is left behind."""

    def __str__(self) -> str:
        return str(self.strerror)


def _create(target: Path) -> tuple[int, Path]:
    """A new temporary file beside ``target``, created with mode 0o666 so that the kernel
    applies the process umask as for any new file (the umask itself is never touched)."""
    directory = target.parent if str(target.parent) else Path(".")
    while True:
        tmp = directory / f".{target.name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), tmp
        except FileExistsError:
            continue


class OutputFiles:
    """Files written all or none: :meth:`stage` writes each one whole to a temporary file
    beside its target; leaving the ``with`` block renames them all over their targets, or,
    on an exception, removes them.

    An ``OSError`` while writing (``ENOSPC``, ``EFBIG`` under a file-size limit, ``EDQUOT``)
    becomes an :class:`OutputError` naming the file.
    """

    def __init__(self) -> None:
        self.staged: list[tuple[Path, Path]] = []

    def __enter__(self) -> OutputFiles:
        return self

    def stage(self, path: str | Path, data: str | bytes) -> None:
        """Write ``data`` (text is UTF-8) to a temporary file for ``path``."""
        target = Path(path)
        payload = data.encode("utf-8") if isinstance(data, str) else data
        try:
            fd, tmp = _create(target)
        except OSError as err:
            raise _failed(target, err) from None
        self.staged.append((tmp, target))
        try:
            with os.fdopen(fd, "wb") as handle:
                if target.exists():  # keep an existing file's permissions
                    os.fchmod(fd, target.stat().st_mode & 0o777)
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as err:
            raise _failed(target, err) from None

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if kind is None:
            try:
                for tmp, target in self.staged:
                    os.replace(tmp, target)
                    self.staged = self.staged[1:]
            except OSError as err:
                self.discard()
                raise _failed(target, err) from None
        self.discard()

    def discard(self) -> None:
        """Remove every temporary file not yet renamed."""
        for tmp, _ in self.staged:
            tmp.unlink(missing_ok=True)
        self.staged = []


def _failed(target: Path, err: OSError) -> OutputError:
    reason = err.strerror or str(err) or type(err).__name__
    return OutputError(err.errno, f"{target}: cannot write it: {reason} (nothing was written)")


def atomic_write(path: str | Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same directory is
    written, flushed and renamed over ``path``; on any failure it is removed."""
    with OutputFiles() as files:
        files.stage(path, data)
