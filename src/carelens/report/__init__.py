"""carelens.report."""
