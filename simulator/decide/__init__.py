"""Decisions under uncertainty: goal seek (solve), budget allocation across paid channels."""
