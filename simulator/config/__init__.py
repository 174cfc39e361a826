"""The config contract: keys, kinds and defaults, validation into frozen dataclasses,
``--set`` overrides, and the one error type users see."""

from .core import Config, load_config
from .errors import ConfigError

__all__ = ["Config", "ConfigError", "load_config"]
