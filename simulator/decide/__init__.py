"""Decisions under uncertainty: goal seek (solve), budget allocation across paid channels."""

from .allocate import Allocation, allocate
from .solve import NoSolution, Solution, solve

__all__ = ["Allocation", "NoSolution", "Solution", "allocate", "solve"]
