"""One small error hierarchy: every failure latbench reports on purpose is a ``LatbenchError``."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from types import ModuleType


class LatbenchError(Exception):
    """Root of every error latbench raises on purpose."""


NOT_A_TABLE = (
    "a JSON file (a predictor, an architecture or a side-car); expected a table CSV beside "
    "its NAME.meta.json side-car"
)
"""Where a table is expected and a ``.json`` file is named."""

PLUGIN_HINT = (
    "; if a plugin registers it, load that plugin with --plugin MODULE or "
    "LATBENCH_PLUGINS (docs/plugins.md)"
)


class UnknownNameError(LatbenchError, KeyError):
    """A name (space, op kind, backend, ...) that is not registered; ``hint`` ends the line."""

    def __init__(self, what: str, name: str, valid: Iterable[str], hint: str = ""):
        self.what, self.name, self.valid = what, name, sorted(valid)
        super().__init__(f"unknown {what} {name!r}; valid: {', '.join(self.valid)}{hint}")

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.args[0]


class OpSpecError(LatbenchError, ValueError):
    """An OpSpec with missing or ill-typed hyper-parameters, or a malformed key."""


class TableError(LatbenchError, ValueError):
    """A lookup table that is missing, malformed or of another schema."""


class MeasurementError(LatbenchError, RuntimeError):
    """A measurement that could not be taken (bad device, unusable timer, ...)."""


class MissingDependencyError(LatbenchError, ImportError):
    """An optional package is needed for this path; the message names the install command."""

    def __init__(self, package: str, extra: str | None = None, why: str = ""):
        hint = f"pip install 'latbench[{extra}]'" if extra else f"pip install {package}"
        msg = f"{package} is not installed{': ' + why if why else ''}; install it with: {hint}"
        super().__init__(msg)


def import_optional(package: str, extra: str | None = None, why: str = "") -> ModuleType:
    """``import package``, or a ``MissingDependencyError`` naming the install command (the
    extra when given, else the package) when it cannot be imported."""
    try:
        return importlib.import_module(package)
    except ImportError:
        raise MissingDependencyError(package, extra, why) from None


class GenotypeError(LatbenchError, ValueError):
    """A genotype string that does not parse: malformed, or naming an op the space lacks."""


class UnknownGenotypeOpError(GenotypeError):
    """A well-formed genotype naming an op that is not one of the space's ops."""


class DisconnectedCellError(LatbenchError, ValueError):
    """A cell with no path from its input to its output, where that makes a result meaningless."""


class Terminated(KeyboardInterrupt):
    """SIGTERM turned into an exception (the CLI's handler raises it), handled like Ctrl-C."""


class InputFileError(LatbenchError, ValueError):
    """A file that cannot be decoded or parsed (not UTF-8, not JSON, nested too deep, ...)."""


def os_error_line(exc: OSError) -> str:
    """One line for an ``OSError`` (disk full, read-only, dangling link, ...): the file(s) it
    concerns and the system's reason."""
    reason = exc.strerror or type(exc).__name__
    names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
    where = " -> ".join(names) if names else "(no file named)"
    return f"{where}: {reason}" + (f" ({exc.args[0]})" if not exc.strerror and exc.args else "")


def with_filename(exc: OSError, path: object) -> OSError:
    """``exc`` naming ``path`` (a failed ``write``/``flush``/``close`` names no file)."""
    if exc.filename is not None:
        return exc
    return type(exc)(exc.errno, exc.strerror or str(exc), str(path))


def decode_error_line(exc: UnicodeDecodeError, source: str) -> str:
    """One line for bytes that are not UTF-8, with the byte offset."""
    return (
        f"{source}: not UTF-8 text (byte {exc.object[exc.start : exc.start + 1]!r} at offset "
        f"{exc.start}); expected UTF-8 text"
    )
