"""``connect`` hands the driver's plugins to the Ray workers (``runtime_env``), so that a
plugin's op kinds build where they are measured; without plugins Ray's defaults stay."""

from __future__ import annotations

from latbench.fleet import cluster
from latbench.plugin_loader import ENV


class FakeRay:
    def __init__(self):
        self.options = None

    def is_initialized(self) -> bool:
        return False

    def init(self, **options):
        self.options = options


def test_plugins_reach_the_workers_through_runtime_env(monkeypatch):
    fake = FakeRay()
    monkeypatch.setattr(cluster, "ray_module", lambda: fake)
    monkeypatch.setenv(ENV, "/abs/toy.py,mypkg.space")
    assert cluster.connect("auto") is fake
    assert fake.options["runtime_env"] == {"env_vars": {ENV: "/abs/toy.py,mypkg.space"}}
    assert fake.options["address"] == "auto"


def test_no_plugins_no_runtime_env(monkeypatch):
    fake = FakeRay()
    monkeypatch.setattr(cluster, "ray_module", lambda: fake)
    monkeypatch.delenv(ENV, raising=False)
    cluster.connect(None, 2)
    assert "runtime_env" not in fake.options and fake.options["num_cpus"] == 2
