"""``validate --out DIR`` replaces links already in DIR and never writes through them (a
planted ``DIR/arch.onnx`` link to a file outside was overwritten)."""

from __future__ import annotations

import pytest

from latbench.atomic import write_atomically
from latbench.cli import main


def test_write_atomically_replaces_links_and_a_planted_temporary(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    link = tmp_path / "out.json"
    link.symlink_to(outside)
    (tmp_path / "out.json.tmp").symlink_to(outside)  # a link where the temporary goes
    write_atomically(link, "new")
    assert outside.read_text() == "keep"
    assert not link.is_symlink() and link.read_text() == "new"
    assert not (tmp_path / "out.json.tmp").exists()


@pytest.mark.slow
def test_validate_out_replaces_every_planted_link(tmp_path, no_tensorrt):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    stem = "nasbench201-s0-small"
    victims = {}
    for suffix in (".onnx", ".report.json", ".report.md"):
        victim = elsewhere / f"victim{suffix}"
        victim.write_text("keep")
        (out / f"{stem}{suffix}").symlink_to(victim)
        victims[suffix] = victim
    (out / "cache").symlink_to(elsewhere, target_is_directory=True)
    assert (
        main(
            [
                "validate",
                "nasbench201:0:small",
                "--backend",
                "ort",
                "--threads",
                "1",
                "--measure-ms",
                "60",
                "--out",
                str(out),
                "--json",
            ]
        )
        == 0
    )
    for suffix, victim in victims.items():
        assert victim.read_text() == "keep", suffix
        assert not (out / f"{stem}{suffix}").is_symlink()
        assert (out / f"{stem}{suffix}").stat().st_size > 0
    assert not (out / "cache").is_symlink()
    assert sorted(p.name for p in elsewhere.iterdir()) == sorted(v.name for v in victims.values())
