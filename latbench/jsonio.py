"""Strict reading of the files latbench loads: UTF-8 text and JSON without surprises.

Every failure is one ``InputFileError`` naming the file: bytes that are not UTF-8, invalid
JSON, ``NaN``/``Infinity`` (not JSON, though Python's ``json`` accepts them), floats that
overflow to infinity, integers longer than ``MAX_INT_DIGITS`` digits and nesting deeper than
``MAX_DEPTH``. ``OSError`` (missing file, permissions, symlink loops) passes through; the CLI
turns it into one line (``latbench.errors.os_error_line``).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from latbench.errors import InputFileError, decode_error_line

MAX_INT_DIGITS = 30
"""Longer integers are refused: nothing latbench stores needs more than int64's 19 digits."""

MAX_DEPTH = 64
"""Deeper nesting is refused before parsing (latbench's own files nest at most ~8 deep)."""


def read_text(path: str | os.PathLike[str], what: str = "file") -> str:
    """The UTF-8 text of ``path`` without a leading byte-order mark (editors on Windows write
    one); bytes that are not UTF-8 are one ``InputFileError``."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise InputFileError(decode_error_line(exc, f"{path}: {what}")) from None


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} overflows a float")
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(text)} digits (more than {MAX_INT_DIGITS})")
    return int(text)


def _depth(text: str) -> int:
    """Maximum bracket depth outside strings (a linear scan; json would recurse)."""
    depth = best = 0
    in_str = escaped = False
    for ch in text:
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            best = max(best, depth)
        elif ch in "]}":
            depth -= 1
    return best


def loads(text: str, source: str = "<string>") -> Any:
    """Parse strict JSON; every problem is one ``InputFileError`` starting with ``source``."""
    if _depth(text) > MAX_DEPTH:
        raise InputFileError(f"{source}: JSON nested more than {MAX_DEPTH} levels deep")
    try:
        return json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{source}: not valid JSON ({exc})") from None
    except (ValueError, RecursionError) as exc:
        raise InputFileError(f"{source}: not valid JSON ({exc})") from None


def read_json(path: str | os.PathLike[str], what: str = "JSON file") -> Any:
    """``loads(read_text(path))`` with ``path`` named in every error."""
    return loads(read_text(path, what), f"{path}")
