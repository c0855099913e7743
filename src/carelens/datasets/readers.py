"""Reading delimited files with a real CSV parser; errors name the file and line."""

import csv
import re
from pathlib import Path

import pandas as pd

from carelens.errors import CarelensError

_LINE = re.compile(r"line (\d+)")


def read_delimited(path: Path, sep: str, header: bool = True) -> pd.DataFrame:
    """Read a CSV/TSV whose quoted fields may hold separators and newlines, as strings."""
    try:
        return pd.read_csv(
            path,
            sep=sep,
            header=0 if header else None,
            dtype=str,
            keep_default_na=False,
            quoting=csv.QUOTE_MINIMAL,
            engine="c",
        )
    except UnicodeDecodeError as exc:
        raise CarelensError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", where=str(path)) from None
    except pd.errors.EmptyDataError:
        raise CarelensError("the file is empty", where=str(path)) from None
    except pd.errors.ParserError as exc:
        match = _LINE.search(str(exc))
        where = f"{path}:{match.group(1)}" if match else str(path)
        raise CarelensError(f"malformed delimited file: {exc}", where=where) from None
