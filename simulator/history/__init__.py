"""From a company's own history to a forecast: reading history, calibrating inputs, backtests."""
