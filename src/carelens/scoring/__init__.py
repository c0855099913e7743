"""carelens.scoring."""
