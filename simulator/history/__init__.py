"""Learning inputs from the company's own history: funnel counts, cohort tables, backtests."""
