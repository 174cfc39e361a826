"""The model of one block of paths: per-path input draws, flows through the funnel, the
customer book, shocks, the monthly step and the metrics derived from it."""
