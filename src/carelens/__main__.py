"""``python -m carelens``."""

from carelens.cli import main

main()
