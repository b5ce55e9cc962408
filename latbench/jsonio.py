"""Strict reading of the files latbench loads: UTF-8 text and JSON without surprises.

Every failure is one ``InputFileError`` naming the file: bytes that are not UTF-8, invalid
JSON, ``NaN``/``Infinity``, floats that overflow, integers longer than ``MAX_INT_DIGITS``
digits, nesting deeper than ``MAX_DEPTH``; ``OSError`` passes through. ``validated`` checks a
document against a pydantic model: ``<file>: field 'a.b[0]' is <value>; expected <what>``.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from latbench.errors import InputFileError, LatbenchError, decode_error_line

Model = TypeVar("Model", bound=BaseModel)

MAX_INT_DIGITS = 30
"""Longer integers are refused: nothing latbench stores needs more than int64's 19 digits."""

MAX_DEPTH = 64
"""Deeper nesting is refused before parsing (latbench's own files nest at most ~8 deep)."""
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[][{}]")


def read_text(path: str | os.PathLike[str], what: str = "file") -> str:
    """The UTF-8 text of ``path`` without a leading byte-order mark; ``InputFileError`` for
    bytes that are not UTF-8."""
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
    brackets = _BRACKETS.findall(_STRINGS.sub("", text))
    return max(itertools.accumulate((1 if b in "[{" else -1 for b in brackets), initial=0))


def loads(text: str, source: str = "<string>") -> Any:
    """Parse strict JSON; every problem is one ``InputFileError`` starting with ``source``."""
    if _depth(text) > MAX_DEPTH:
        raise InputFileError(f"{source}: JSON nested more than {MAX_DEPTH} levels deep")
    try:
        return json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except (ValueError, RecursionError) as exc:  # json.JSONDecodeError is a ValueError
        raise InputFileError(f"{source}: not valid JSON ({exc})") from None


EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "dict_type": "a JSON object",
    "model_type": "a JSON object",
    "list_type": "a list",
    "too_short": "at least {min_length} item(s)",
    "greater_than_equal": "a value >= {ge:g}",
    "greater_than": "a value > {gt:g}",
    "less_than_equal": "a value <= {le:g}",
}
"""What a value of the wrong JSON type should have been, by pydantic error type."""


def validated(
    model: type[Model], data: Any, source: str, error: type[LatbenchError] = InputFileError
) -> Model:
    """``model.model_validate(data)``; the first violation is one ``error`` line starting with
    ``source`` (``schema_error_line``)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(schema_error_line(exc, source)) from None


def schema_error_line(exc: ValidationError, source: str) -> str:
    """``<source>: field 'a.b[0]' is <value>; expected <what>`` for the first error of ``exc``
    (a value of the wrong type is named by its type: ``is a str``)."""
    err = exc.errors(include_url=False)[0]
    loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
    field = loc.removeprefix(".") or "(top level)"
    if err["type"] == "missing":
        return f"{source}: field {field!r} is missing"
    value = err["input"]
    if value is None:
        shown = "null"
    elif err["type"].endswith("_type"):
        name = type(value).__name__
        shown = f"{'an' if name[0] in 'aeiou' else 'a'} {name}"
    else:
        shown = repr(value)[:60]
    if err["type"] in EXPECTED:
        expected = EXPECTED[err["type"]].format(**err.get("ctx", {}))
    else:
        expected = str(err["msg"]).removeprefix("Value error, ")
    expected = expected.removeprefix("Input should be ")
    return f"{source}: field {field!r} is {shown}; expected {expected}"
