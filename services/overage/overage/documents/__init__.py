"""Documents the overage service renders: the margin report as CSV and as an SVG chart."""
