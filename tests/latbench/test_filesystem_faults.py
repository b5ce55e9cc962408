"""Filesystem faults through the CLI: disk full, read-only filesystem, /dev/full,
dangling symlinks, symlink loops, ``fit -o DIR``. Each is one line on stderr, exit 2, and
nothing half-written is left behind. A real tiny tmpfs and a read-only bind mount are used
where the machine allows (root with mount rights); otherwise a fault-injecting ``os.fsync``
stands in for the full disk and the read-only cases are skipped."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from latbench.cli import main
from latbench.spaces import get_space
from latbench.tables import LATENCY, TableWriter, read_table

META = {"fingerprint": {"slug": "cpu-test-1t"}, "protocol": {}, "protocol_id": "p"}


def _mount(*args: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture()
def table(tmp_path) -> Path:
    path = tmp_path / "ops.csv"
    w = TableWriter(path, LATENCY, META)
    for i, s in enumerate(get_space("nasbench201").ops("small")[:4]):
        w.append(
            {
                "key": s.key,
                "status": "ok",
                "source": "measured",
                "protocol_id": "p",
                "latency_median_ms": 0.1 + i,
                "latency_min_ms": 0.1 + i,
            }
        )
    return path


@pytest.fixture()
def full_disk(tmp_path):
    """A 64 KiB tmpfs filled to the last byte (skipped where mounting is not allowed)."""
    mnt = tmp_path / "full"
    mnt.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)):
        pytest.skip("cannot mount a tmpfs here (not root?); see the fault-injection test")
    try:
        fd = os.open(mnt / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"\0" * 1024)
        except OSError:
            pass
        os.close(fd)
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@pytest.fixture()
def read_only(tmp_path, table):
    """A read-only bind mount of a folder holding a complete table."""
    src, mnt = tmp_path / "src", tmp_path / "ro"
    src.mkdir()
    mnt.mkdir()
    for f in table.parent.glob("ops.*"):
        shutil.copy(f, src / f.name)
    if not _mount("--bind", "-o", "ro", str(src), str(mnt)):
        pytest.skip("cannot bind-mount read-only here (not root?)")
    if os.access(mnt, os.W_OK) and _probe_writable(mnt):
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
        pytest.skip("bind mount did not become read-only (old kernel)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _probe_writable(folder: Path) -> bool:
    try:
        (folder / ".probe").write_text("x")
    except OSError:
        return False
    (folder / ".probe").unlink()
    return True


def run(argv: list[str], capsys) -> tuple[int, str]:
    capsys.readouterr()
    rc = main(argv)
    err = [
        line
        for line in capsys.readouterr().err.splitlines()
        if line.strip() and not line.startswith("latbench: warning:")
    ]
    assert len(err) == 1 and err[0].startswith("latbench: error: "), err
    return rc, err[0]


def test_fit_on_a_full_disk_is_one_line_and_leaves_no_tmp(table, full_disk, capsys):
    rc, err = run(["fit", str(table), "-o", str(full_disk / "pred.json")], capsys)
    assert rc == 2 and "No space left on device" in err and "pred.json" in err
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler"]  # no 0-byte .tmp


def test_fit_when_fsync_fails_leaves_no_tmp(table, tmp_path, capsys, monkeypatch):
    """Fault injection: the same disk-full path without needing a mount."""

    def no_space(fd):  # noqa: ANN001, ANN202
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "out"))

    (tmp_path / "out").mkdir()
    monkeypatch.setattr(os, "fsync", no_space)
    rc, err = run(["fit", str(table), "-o", str(tmp_path / "out" / "pred.json")], capsys)
    assert rc == 2 and "No space left on device" in err
    assert list((tmp_path / "out").iterdir()) == []


def test_fit_output_is_a_folder(table, tmp_path, capsys):
    rc, err = run(["fit", str(table), "-o", str(tmp_path)], capsys)
    assert rc == 2 and "is a folder" in err


def test_predictions_to_dev_full(table, tmp_path, capsys):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    assert main(["fit", str(table), "-o", str(tmp_path / "p.json")]) == 0
    key = get_space("nasbench201").ops("small")[0].key
    rc, err = run(["predict", str(tmp_path / "p.json"), "--key", key, "--out", "/dev/full"], capsys)
    assert rc == 2 and "/dev/full" in err and "No space left" in err


def test_a_device_or_fifo_is_refused_not_replaced(table, tmp_path, capsys):
    """`fit -o /dev/full` as root renamed the predictor over /dev/full: the device node became
    a regular file and the fit said 'fitted'. A FIFO shows the same rename without root."""
    import stat

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    rc, err = run(["fit", str(table), "-o", str(fifo)], capsys)
    assert rc == 2 and f"{fifo}: is a FIFO, not a file" in err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "ops.csv", "ops.meta.json"]
    (tmp_path / "stdout").symlink_to(fifo)  # what /dev/stdout is: a link to a pipe or tty
    rc, err = run(["fit", str(table), "-o", str(tmp_path / "stdout")], capsys)
    assert rc == 2 and "stdout: is a FIFO, not a file" in err
    assert (tmp_path / "stdout").is_symlink()


def test_dangling_symlinks_and_loops(table, tmp_path, capsys):
    (tmp_path / "dangling.csv").symlink_to(tmp_path / "missing.csv")
    (tmp_path / "loop1.csv").symlink_to(tmp_path / "loop2.csv")
    (tmp_path / "loop2.csv").symlink_to(tmp_path / "loop1.csv")
    (tmp_path / "dangling.json").symlink_to(tmp_path / "missing.json")
    (tmp_path / "loopdir").symlink_to(tmp_path / "loopdir")
    for argv, needle in (
        (["show", str(tmp_path / "dangling.csv")], "dangling.csv"),
        (["show", str(tmp_path / "loop1.csv")], "loop1.csv"),
        (["predict", str(tmp_path / "dangling.json"), "--key", "x"], "dangling.json"),
        (["fit", str(table), "-o", str(tmp_path / "loopdir" / "p.json")], "loopdir"),
    ):
        rc, err = run(argv, capsys)
        assert rc == 2 and needle in err, (argv, err)


def test_read_only_filesystem(read_only, tmp_path, capsys):
    rc, err = run(["fit", str(read_only / "ops.csv"), "-o", str(read_only / "p.json")], capsys)
    assert rc == 2 and "Read-only file system" in err
    # a complete table can still be opened to learn that there is nothing to do
    writer = TableWriter(read_only / "ops.csv", LATENCY, META)
    assert len(read_table(writer.path)) == 4
    assert main(["show", str(read_only / "ops.csv")]) == 0


def test_profile_on_a_full_disk_names_the_file_and_leaves_no_tmp(full_disk, capsys):
    capsys.readouterr()
    rc = main(
        [
            "profile",
            "nasbench201",
            "--threads",
            "1",
            "--budget-ms",
            "1",
            "--warmup-ms",
            "1",
            "--table",
            str(full_disk / "t.csv"),
        ]
    )
    (err,) = [x for x in capsys.readouterr().err.splitlines() if x.startswith("latbench: ")]
    assert rc == 2 and "No space left on device" in err and "no file named" not in err
    assert "t.meta.json" in err
    assert not [p.name for p in full_disk.iterdir() if p.name.endswith(".tmp")]


def test_a_full_disk_while_a_row_is_written_names_the_file(tmp_path, monkeypatch):
    def no_space(*_a, **_k):  # noqa: ANN202 - a failed write names no file
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    table = tmp_path / "t.csv"
    w = TableWriter(table, LATENCY, META)
    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError) as info:
        w.append({"key": "k", "status": "error", "source": "measured", "protocol_id": "p"})
    assert info.value.filename == str(table)
    assert not list(tmp_path.glob("*.tmp"))
