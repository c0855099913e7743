"""carelens.analysis."""
