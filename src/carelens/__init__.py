"""carelens: audit how language models answer people who ask for mental-health help."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("carelens")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"
