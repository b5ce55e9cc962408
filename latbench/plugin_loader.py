"""Loads plugins once per process, when a registry is first asked for something; the
registration API is ``latbench.plugins``.

Order: (1) ``latbench.builtin`` by name (its entry point is skipped); (2) the entry points of
group ``latbench.plugins``, sorted by (name, value): ``module`` is imported, ``module:callable``
called; (3) ``LATBENCH_PLUGINS``: module names or ``.py`` paths separated by commas or
``os.pathsep`` (``--plugin X`` appends ``X``, so child processes load the same plugins). A plugin
that fails is a ``PluginError`` naming it, raised again by every later registry call.
"""

from __future__ import annotations

import importlib
import os
import re
import threading
import types
from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import Any

from latbench.errors import LatbenchError
from latbench.trust import import_file, trust_module

ENV = "LATBENCH_PLUGINS"
GROUP = "latbench.plugins"
BUILTIN = "latbench.builtin"


class PluginError(LatbenchError):
    """A plugin could not be found or raised while registering."""

    def __init__(self, name: str, error: BaseException | str):
        if isinstance(error, BaseException):
            text = " ".join(str(error).split()) or "(no message)"
            error = f"{type(error).__name__}: {text}"
        super().__init__(f"plugin {name!r} failed to load: {error}")
        self.plugin = name


_lock = threading.RLock()
_loaded: list[str] = []
_state: dict[str, Any] = dict(done=False, loading=False, error=None, env=None, entry_points=None)


def _is_path(name: str) -> bool:
    return name.endswith(".py") or "/" in name or os.sep in name


def _entry_points() -> list[tuple[str, Any]]:
    """(value, entry point) of group ``GROUP`` but ``BUILTIN``, one per value, sorted by (name,
    value)."""
    found = sorted(entry_points(group=GROUP), key=lambda ep: (ep.name, ep.value))
    unique = {ep.value: ep for ep in reversed(found) if ep.value != BUILTIN}
    return sorted(unique.items(), key=lambda item: (item[1].name, item[0]))


def plugin_list(env: str | None = None) -> list[str]:
    """The plugins of ``LATBENCH_PLUGINS`` (or ``env``), in order, without repeats."""
    text = os.environ.get(ENV, "") if env is None else env
    parts = (p.strip() for p in re.split(f"[,{re.escape(os.pathsep)}]", text))
    return list(dict.fromkeys(p for p in parts if p))


def add_to_environment(names: Iterable[str]) -> list[str]:
    """Append ``names`` (module names, or paths made absolute) to this process's
    ``LATBENCH_PLUGINS`` so that child processes load them too (``--plugin``); the new list."""
    names = [os.path.abspath(n) if _is_path(n) else n for n in names]
    merged = list(dict.fromkeys(plugin_list() + names))
    if merged:
        os.environ[ENV] = ",".join(merged)
    return merged


def _load_one(label: str, target: Any) -> None:
    cwd = os.getcwd()
    try:
        if isinstance(target, str):
            if _is_path(target):
                import_file(target, "latbench_plugin")
            else:
                trust_module(target.split(".")[0])
                importlib.import_module(target)
        else:  # an entry point: a module is imported by load(); a callable is called
            trust_module(str(target.value).split(":")[0].split(".")[0])
            obj = target.load()
            if callable(obj) and not isinstance(obj, types.ModuleType):
                obj()
    except LatbenchError as exc:
        raise PluginError(label, str(exc)) from exc
    except SystemExit as exc:
        raise PluginError(label, f"its code called sys.exit({exc.code!r})") from None
    except Exception as exc:  # noqa: BLE001 - any error of user code is reported, one line
        raise PluginError(label, exc) from exc
    finally:  # relative output paths stay where the command ran
        os.chdir(cwd)


def load_plugins() -> list[str]:
    """Load every plugin not loaded yet (module doc: the order); the labels loaded.

    Entry points are read once per process, ``LATBENCH_PLUGINS`` again only when it changed.
    Raises ``PluginError`` for the first plugin that fails, then on every call. A call made
    while plugins load (a plugin asking a registry) sees what is registered so far."""
    env = os.environ.get(ENV, "")
    if _state["error"] is None and _state["done"] and _state["env"] == env:
        return list(_loaded)
    with _lock:
        if _state["error"] is not None:
            raise _state["error"]
        if _state["loading"]:
            return list(_loaded)
        _state["loading"] = True
        try:
            if _state["entry_points"] is None:
                _state["entry_points"] = [(BUILTIN, BUILTIN), *_entry_points()]
            targets = [*_state["entry_points"], *((n, n) for n in plugin_list(env))]
            for label, target in targets:
                if label not in _loaded:
                    _load_one(label, target)
                    _loaded.append(label)
            _state["done"], _state["env"] = True, env
        except PluginError as exc:
            _state["error"] = exc
            raise
        finally:
            _state["loading"] = False
    return list(_loaded)
