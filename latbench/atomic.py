"""Whole-file writes that readers never see half-done (temporary + ``os.replace``)."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from latbench.errors import with_filename


def write_atomically(
    path: str | os.PathLike[str], data: str | bytes, *, fsync: bool = False
) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` through ``<path>.tmp`` and ``os.replace``: a
    reader sees the old file or the new one. ``fsync``: the bytes reach the disk before the
    rename. Raises the ``OSError`` of a full disk or read-only folder naming ``path``, leaving no
    temporary behind. Links are replaced, never written through. A device or FIFO at ``path``
    (``/dev/full``), or a link to one (``/dev/stdout``), is refused with ``OSError`` (``EINVAL``)
    rather than replaced."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with contextlib.suppress(FileNotFoundError):  # the link's target too: /dev/stdout
        mode = os.stat(path).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            what = "a FIFO" if stat.S_ISFIFO(mode) else "a device or socket"
            raise OSError(errno.EINVAL, f"is {what}, not a file; give a file path", str(path))
    try:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        with open(tmp, "xb") as fh:
            fh.write(raw)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise with_filename(exc, path) from None
        raise
    return path
