"""The one error type users see for bad input, formatted as docs/cli.md (Bad input) says."""

from __future__ import annotations

from collections.abc import Sequence


class ConfigError(ValueError):
    """A bad config value or flag.

    Printed as ``SOURCE: dotted.key: what is wrong (what was given, what is allowed)``, where
    SOURCE is the config file or the flag (``--paths``) the value came from.
    """

    __module__ = "simulator"  # its public name: tracebacks say simulator.ConfigError

    def __init__(self, key: str, reason: str, source: str = "") -> None:
        self.key = key
        self.reason = reason
        self.source = source
        super().__init__(self.line())

    def __reduce__(self) -> tuple[type[ConfigError], tuple[str, str, str]]:
        # rebuilt from its parts when it crosses a process boundary (a worker's error)
        return (ConfigError, (self.key, self.reason, self.source))

    def line(self) -> str:
        """The one-line message (without the leading ``error:``)."""
        parts = [p for p in (self.source, self.key, self.reason) if p]
        return ": ".join(parts)

    def with_source(self, source: str) -> ConfigError:
        """The same error attributed to ``source``."""
        return ConfigError(self.key, self.reason, source)


def did_you_mean(word: str, allowed: Sequence[str]) -> str:
    """A hint like ``did you mean 'paths'? allowed: months, paths, seed``."""
    import difflib

    close = difflib.get_close_matches(word, list(allowed), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}allowed: {', '.join(allowed)}"
