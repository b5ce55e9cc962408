"""Saving and loading fitted predictors as plain JSON (never pickle).

A saved predictor is one JSON document: ``format``/``version``, the predictor's class, its
parameters and fitted state (floats written with ``repr``: a reload predicts bit-identically),
the device slug, sha256 of the fitted tables, library versions, fit metrics, and a sha256
``checksum`` of all of that. The checksum is no signature, so the state is also validated on
load (``check_*`` here, each class's ``from_state``): an edit is "damaged: field ...".
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
import warnings
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from latbench.atomic import write_atomically
from latbench.device import library_versions
from latbench.errors import InputFileError, LatbenchError, UnknownNameError
from latbench.jsonio import loads, read_text, validated
from latbench.statistics import STATISTICS
from latbench.tables import refuse_table

FORMAT = "latbench.predictor"
VERSION = 1


class PredictorFileError(LatbenchError, ValueError):
    """A saved predictor that is missing, truncated, tampered with or of another format."""


class DeviceMismatchWarning(UserWarning):
    """A predictor fitted on one device used for another."""


class Persistable(Protocol):
    """What ``save`` needs: parameters and fitted state as plain JSON values."""

    def to_state(self) -> dict[str, Any]: ...

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Persistable: ...


_CLASSES: dict[str, type] = {}
_DOCUMENTS: dict[str, type] = {}  # saved like a predictor, never predicting (a DevicePrior)


def damaged(field: str, expected: str, got: Any = None) -> PredictorFileError:
    """The error of a state that parses and checksums but cannot be this predictor."""
    shown = "" if got is None else f" is {str(got)[:60]!r};"
    return PredictorFileError(f"damaged: field {field!r}{shown} expected {expected}")


def check_choice(field: str, value: Any, valid: Any) -> Any:
    """``value`` if it is one of ``valid``, else ``damaged``."""
    if not isinstance(value, str) or value not in valid:
        raise damaged(field, "one of " + ", ".join(map(str, valid)), value)
    return value


def check_numbers(
    field: str, values: Any, length: int | None = None, positive: bool = False
) -> list[float]:
    """A list of finite numbers (``length`` of them when given; all > 0 if ``positive``)."""
    ok = isinstance(values, list) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and (v > 0 or not positive)
        for v in values
    )
    if not ok:
        raise damaged(field, f"a list of {'positive ' if positive else ''}numbers")
    if length is not None and len(values) != length:
        raise damaged(field, f"{length} numbers (one per entry), found {len(values)}")
    return values


def check_range(
    field: str, values: Any, low: float, high: float, expected: str, length: int | None = None
) -> list[float]:
    """``check_numbers``, each within ``[low, high]`` (else ``damaged``, saying ``expected``)."""
    bad = next((v for v in check_numbers(field, values, length) if not low <= v <= high), None)
    if bad is not None:
        raise damaged(field, expected, bad)
    return values


def check_unique(field: str, keys: list[str]) -> list[str]:
    """``keys`` if none occurs twice, else ``damaged`` naming a repeated one."""
    repeated = [key for key, n in Counter(keys).items() if n > 1]
    if repeated:
        raise damaged(field, "each key once", repeated[0])
    return keys


def check_strings(field: str, values: Any, what: str, valid: Any = None) -> list[str]:
    """A list of strings (each one of ``valid`` when given), else ``damaged`` naming the first
    bad entry (or the value that is no list) and saying ``what``."""
    if not isinstance(values, list):
        raise damaged(field, what, values)
    for v in values:
        if not isinstance(v, str) or (valid is not None and v not in valid):
            raise damaged(field, what, v)
    return values


def check_type(field: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    """``value`` if it is a ``kind`` (bools are not numbers here), else ``damaged``."""
    if not isinstance(value, kind) or (
        isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,))
    ):
        raise damaged(field, what, value)
    return value


def persistable(cls: type) -> type:
    """Class decorator: make ``cls`` loadable by name from a saved document."""
    _CLASSES[cls.__name__] = cls
    return cls


def persistable_document(cls: type) -> type:
    """Class decorator: save and load ``cls`` (no predictor: a ``DevicePrior``) like one."""
    _DOCUMENTS[cls.__name__] = cls
    return cls


def _canonical(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's bytes (the tables a predictor was fitted on)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def state_of(obj: Persistable) -> dict[str, Any]:
    """``{"class": name, "state": ...}`` for nesting one predictor inside another."""
    return {"class": type(obj).__name__, "state": obj.to_state()}


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON: a predictor as ``state_of``, a dataclass as its fields, numpy
    arrays and tuples as lists."""
    if hasattr(value, "get_params"):
        return state_of(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def from_state_of(doc: Mapping[str, Any]) -> Any:
    """Inverse of ``state_of``; unknown classes name the known ones."""
    _ensure_loaded()
    if not isinstance(doc, Mapping):
        raise damaged("class", "an object {class, state}", doc)
    name = doc.get("class")
    known = {**_CLASSES, **_DOCUMENTS}
    if not isinstance(name, str) or name not in known:
        raise PredictorFileError(
            f"unknown predictor class {str(name)[:60]!r}; valid: {', '.join(sorted(known))}"
        )
    state = doc.get("state")
    if not isinstance(state, Mapping):
        raise damaged(f"{name}.state", "an object", state)
    validated(StateDoc, state, f"damaged: {name}.state", PredictorFileError)
    try:
        return known[name].from_state(state)
    except PredictorFileError:
        raise
    except UnknownNameError as exc:  # a name this process has not registered: not damage
        raise PredictorFileError(f"{name}: {exc}") from None
    except LatbenchError as exc:
        raise PredictorFileError(f"damaged: {name}: {exc}") from None
    except KeyError as exc:
        raise damaged(f"{name}.state.{exc.args[0]}", "to be present") from None
    except (TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
        raise PredictorFileError(
            f"damaged: {name} state cannot be loaded ({type(exc).__name__}: {str(exc)[:120]})"
        ) from None


MODULES = ("lookup", "learned", "network", "transfer", "memory", "device_prior", "gpu_specs")
"""The built-in predictor modules (each registers its classes), with ``model_transfer``."""


def _ensure_loaded() -> None:
    for name in (*MODULES, "model_transfer"):
        importlib.import_module(f"latbench.predictors.{name}")


def dumps(
    obj: Persistable,
    *,
    device: str = "",
    tables: Mapping[str, str] | None = None,
    fit_metrics: Mapping[str, Any] | None = None,
    statistic: str = "",
    sizes: Mapping[str, Any] | None = None,
    drift_reference: Mapping[str, Any] | None = None,
    table_paths: Mapping[str, str] | None = None,
) -> str:
    """The predictor as a checksummed JSON document (see the module docstring); ``statistic``
    names the latency column it was fitted on (e.g. ``latency_min_ms``), ``sizes`` the sizes
    of each search space its tables hold (``{"nasbench201": ["small"]}``: ``predict``'s default;
    ``data.fitted_sizes``), ``drift_reference`` what a corrected statistic is relative to
    (``data.drift_reference``), ``table_paths`` the tables' paths as given (for reports)."""
    optional = {
        "statistic": statistic,
        "drift_reference": dict(drift_reference or {}),
        "table_paths": {str(k): str(v) for k, v in (table_paths or {}).items()},
        "sizes": {str(space): sorted(map(str, v)) for space, v in (sizes or {}).items()},
    }
    body = {
        "format": FORMAT,
        "version": VERSION,
        **state_of(obj),
        "device": device,
        "tables_sha256": dict(tables or {}),
        "libraries": library_versions(),
        "fit_metrics": dict(fit_metrics or {}),
        **{k: v for k, v in optional.items() if v},
    }
    try:
        checksum = hashlib.sha256(_canonical(body)).hexdigest()
    except ValueError as exc:
        raise LatbenchError(
            f"cannot save {type(obj).__name__}: state holds NaN/inf ({exc})"
        ) from None
    return json.dumps({**body, "checksum": checksum}, sort_keys=True, indent=1) + "\n"


def save(obj: Persistable, path: str | os.PathLike[str], **info: Any) -> Path:
    """Write ``dumps(obj, **info)`` to ``path`` atomically; never over a folder or a table."""
    p = Path(path)
    if p.is_dir():
        raise LatbenchError(
            f"{p}: is a folder; give the predictor file to write, e.g. {p / 'predictor.json'}"
        )
    refuse_table(p, "a predictor")
    text = dumps(obj, **info)
    p.parent.mkdir(parents=True, exist_ok=True)
    return write_atomically(p, text, fsync=True)


def parse(text: str, source: str = "<string>") -> dict[str, Any]:
    """The checked document: valid JSON, our format and version, checksum matching."""
    try:
        doc = loads(text, source)
    except InputFileError as exc:
        raise PredictorFileError(f"{exc}; the file is truncated or not a saved predictor") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        got = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise PredictorFileError(f"{source}: format is {got!r}; expected {FORMAT!r}")
    if isinstance(doc.get("version"), bool) or doc.get("version") != VERSION:
        raise PredictorFileError(
            f"{source}: version {doc.get('version')!r}; this latbench reads version {VERSION}"
        )
    checksum = doc.pop("checksum", None)
    actual = hashlib.sha256(_canonical(doc)).hexdigest()
    if checksum != actual:
        raise PredictorFileError(
            f"{source}: checksum mismatch (stored {checksum!r}, content hashes to "
            f"{actual[:16]}...); the file was edited or damaged; re-fit or restore it"
        )
    return doc


def load(
    path: str | os.PathLike[str], *, device: str | None = None, strict_device: bool = False
) -> Any:
    """Load a saved predictor; ``device`` (a slug) warns, or with ``strict_device`` errors,
    when the predictor was fitted on another device."""
    p = Path(path)
    if not p.is_file():
        raise PredictorFileError(f"{p}: no such predictor file")
    try:
        doc = parse(read_text(p, "predictor"), str(p))
    except InputFileError as exc:
        raise PredictorFileError(str(exc)) from None
    validated(PredictorDoc, doc, f"{p}: damaged", PredictorFileError)
    check_device(doc, device, strict_device, str(p))
    try:
        obj = from_state_of(doc)
    except PredictorFileError as exc:
        raise PredictorFileError(f"{p}: {exc}") from None
    obj.info_ = {k: doc.get(k, {}) for k in PredictorDoc.model_fields}  # older files lack some
    obj.info_["statistic"] = doc.get("statistic", "")
    return obj


class StateDoc(BaseModel):
    """The records a predictor's ``state`` may keep beside its numbers (each class checks its
    numbers in ``from_state``)."""

    model_config = ConfigDict(strict=True, extra="allow", defer_build=True)
    device: str = ""
    table_sha256: str = ""


class DriftReferenceDoc(BaseModel):
    """``drift_reference`` as ``dumps`` writes it (``latbench.predictors.data.drift_reference``)."""

    model_config = ConfigDict(strict=True, extra="allow", defer_build=True)
    nominal_ms: float = Field(1.0, ge=0)
    reference: str = ""


class PredictorDoc(BaseModel):
    """A predictor file's records around the predictor (``dumps``; absent in older files: the
    default); ``state`` is checked by its class's ``from_state``, the checksum by ``parse``."""

    model_config = ConfigDict(strict=True, extra="allow", defer_build=True)
    device: str = ""
    tables_sha256: dict[str, Any] = {}
    libraries: dict[str, Any] = {}
    fit_metrics: dict[str, Any] = {}
    statistic: str = ""
    sizes: dict[str, list[Literal["small", "paper"]]] = {}  # latbench.spaces.SIZES
    drift_reference: DriftReferenceDoc = DriftReferenceDoc()
    table_paths: dict[str, Any] = {}

    @field_validator("statistic")
    @classmethod
    def _fitted_on(cls, name: str) -> str:
        if name not in ("", *STATISTICS.values()):
            raise ValueError("one of " + ", ".join(STATISTICS.values()))
        return name


def check_device(doc: Mapping[str, Any], device: str | None, strict: bool, source: str) -> None:
    """Warn (or raise when ``strict``) if ``doc`` was fitted on another device."""
    fitted = doc.get("device") or ""
    if device is None or not fitted or fitted == device:
        return
    msg = (
        f"{source}: predictor was fitted on device {fitted!r}, used for {device!r}; "
        "its numbers describe the other device (fit one here, or use few-shot transfer)"
    )
    if strict:
        raise PredictorFileError(msg)
    warnings.warn(msg, DeviceMismatchWarning, stacklevel=3)
