"""What a risk review shows and how: intervals, targets and sensitivity on a result,
convergence to a precision, and the text, CSV, JSON, Markdown, chart and HTML renderers."""
