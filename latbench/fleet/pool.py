"""Spread a pure function over many items (CPU-bound estimates): here, a process pool, or Ray."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def _apply_chunk(fn: Callable[[T], R], chunk: Sequence[T]) -> list[R]:
    return [fn(item) for item in chunk]


def _chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def parallel_map(
    fn: Callable[[T], R], items: Sequence[T], *, n_jobs: int = 1, ray: Any = None, chunk: int = 16
) -> list[R]:
    """``[fn(item) for item in items]``, in order.

    ``ray`` (the connected module): Ray tasks of ``chunk`` items each, ``fn`` put once in the
    object store. Else ``n_jobs > 1``: a joblib process pool; else in this process. ``fn``
    must be picklable.
    """
    items = list(items)
    if ray is not None and items:
        remote = ray.remote(_apply_chunk)
        fn_ref = ray.put(fn)
        refs = [remote.remote(fn_ref, c) for c in _chunks(items, chunk)]
        return [r for part in ray.get(refs) for r in part]
    if n_jobs <= 1 or len(items) < 2:
        return [fn(item) for item in items]
    from joblib import Parallel, delayed

    chunk = max(1, min(chunk, -(-len(items) // n_jobs)))  # every worker gets a share
    parts = Parallel(n_jobs=n_jobs)(delayed(_apply_chunk)(fn, c) for c in _chunks(items, chunk))
    return [r for part in parts for r in part]
