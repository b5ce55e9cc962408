"""Fleet runs on a local Ray (2 CPUs): same rows as a local run, faults cost one task."""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from latbench.cli import main  # noqa: E402
from latbench.errors import LatbenchError  # noqa: E402
from latbench.fleet import Target, connect, node_targets, run_on_fleet, task_resources  # noqa: E402
from latbench.fleet.jobs import op_job_factory  # noqa: E402
from latbench.profile import OpLatencyJob, profile_specs  # noqa: E402
from latbench.spaces import get_space  # noqa: E402
from latbench.tables import read_table  # noqa: E402
from latbench.timing import TimingConfig, make_timer  # noqa: E402

pytestmark = pytest.mark.slow  # one module: `--dist loadfile` runs it on one worker, one Ray
REPO = Path(__file__).resolve().parents[3]
FAST = TimingConfig(warmup_ms=1.0, budget_ms=3.0, min_sample_ms=0.2)


SIM_DEVICES = ("sim-gpu-a", "sim-gpu-b")


@pytest.fixture(scope="module")
def cluster():
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p
    )
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    # two custom resources stand for two device types of a fleet (node labels, as `ray start
    # --resources` gives real ones); the workers stay the same processes, warm
    ray.init(
        num_cpus=2,
        resources={name: 1 for name in SIM_DEVICES},
        include_dashboard=False,
        log_to_driver=False,
    )
    assert connect(None) is ray  # an initialised Ray is used as it is
    yield ray
    ray.shutdown()


def _specs():
    return get_space("nasbench201").ops("small")[:8]


def _keys(path: Path) -> list[str]:
    return list(read_table(path)["key"])


def _job(cls: type, device: str, **extra):
    """An ``OpLatencyJob`` subclass ``cls`` built as a local run builds its job, plus ``extra``."""
    base = OpLatencyJob.of(make_timer(device, FAST, threads=1))
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(OpLatencyJob)}
    return cls(**fields, **extra)


@dataclasses.dataclass
class _KillingJob(OpLatencyJob):
    """Kills its own worker (SIGKILL): at item ``once`` the first time (``marker`` remembers
    it, so the retry succeeds), at item ``always`` every time."""

    once: str = ""
    always: str = ""
    marker: str = ""

    def measure(self, items, on_round=None):  # noqa: ANN001
        keys = {i.key for i in items}
        if self.always in keys or (self.once in keys and not os.path.exists(self.marker)):
            if self.once in keys:
                Path(self.marker).write_text("killed once")
            os.kill(os.getpid(), signal.SIGKILL)
        return super().measure(items, on_round)


def _killing_factory(
    device: str, once: str = "", always: str = "", marker: str = "", sim_device: bool = False
):
    job = _job(_KillingJob, device, once=once, always=always, marker=marker)
    context = ray.get_runtime_context()
    in_task = sim_device and context.worker.mode == ray.WORKER_MODE  # not the driver's plan
    held = context.get_assigned_resources() if in_task else {}
    for name in set(SIM_DEVICES) & set(held):  # the simulated device type this task holds
        job.fingerprint = {**job.fingerprint, "slug": name, "host": name}
    return job


def test_task_resources_ask_a_whole_gpu_or_the_threads():
    assert task_resources("cuda:0", None) == {"num_gpus": 1, "num_cpus": 1}
    assert task_resources("cpu", 2) == {"num_cpus": 2}
    assert task_resources("cpu", None) == {"num_cpus": 1}


def test_a_gpu_index_other_than_0_is_refused_on_a_fleet(tmp_path):
    """Ray gives each task one GPU, which it sees as cuda:0: cuda:1 would fail in every task."""
    with pytest.raises(LatbenchError, match=r"'cuda:1'.*give --device cuda"):
        run_on_fleet(
            op_job_factory(TimingConfig(), None),
            [],
            "cuda:1",
            lambda slug: tmp_path,
            ray=None,
            targets=[Target("n")],
        )


def test_fleet_run_writes_the_op_set_of_a_local_run_and_resumes(cluster, tmp_path):
    specs = _specs()
    local = profile_specs(specs, tmp_path / "local.csv", make_timer("cpu", FAST, threads=1))
    make_job = op_job_factory(FAST, 1)
    table = tmp_path / "fleet.csv"
    run = run_on_fleet(
        make_job,
        specs,
        "cpu",
        lambda slug: table,
        ray=cluster,
        targets=node_targets(cluster, "cpu", 1),
        threads=1,
    )
    assert sorted(_keys(table)) == sorted(_keys(local.path))
    assert set(read_table(table)["status"]) == {"ok"}
    again = run_on_fleet(
        make_job,
        specs,
        "cpu",
        lambda slug: table,
        ray=cluster,
        targets=node_targets(cluster, "cpu", 1),
        threads=1,
    )
    (only,) = again.tables.values()
    assert only.measured == [] and len(only.skipped) == len(specs)
    assert len(run.tables) == 1 and run.retried == []


def test_a_killed_worker_costs_one_retry_and_an_op_that_always_kills_is_recorded(cluster, tmp_path):
    import functools

    specs = _specs()
    once, always = specs[3].key, specs[5].key
    make_job = functools.partial(
        _killing_factory, once=once, always=always, marker=str(tmp_path / "killed")
    )
    table = tmp_path / "t.csv"
    run = run_on_fleet(
        make_job,
        specs,
        "cpu",
        lambda slug: table,
        ray=cluster,
        targets=node_targets(cluster, "cpu", 1),
        threads=1,
    )
    assert (tmp_path / "killed").exists()
    assert once in run.retried and always in run.retried and run.lost == [always]
    df = read_table(table).set_index("key")
    assert sorted(df.index) == sorted(s.key for s in specs) and df.index.is_unique
    assert df.loc[always, "status"] == "crashed" and "lost twice" in df.loc[always, "error"]
    assert (df.drop(index=always)["status"] == "ok").all()  # the once-killed op measured


@dataclasses.dataclass
class _StuckJob(OpLatencyJob):
    """At item ``victim``, the first time: writes its worker's PID to ``pid_file`` and sleeps
    (a task still running when the driver is interrupted)."""

    victim: str = ""
    pid_file: str = ""

    def measure(self, items, on_round=None):  # noqa: ANN001
        if any(i.key == self.victim for i in items) and not os.path.exists(self.pid_file):
            Path(self.pid_file).write_text(str(os.getpid()))
            time.sleep(120)
        return super().measure(items, on_round)


def _stuck_factory(device: str, victim: str, pid_file: str):
    return _job(_StuckJob, device, victim=victim, pid_file=pid_file)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_an_interrupted_driver_keeps_its_rows_ends_its_running_tasks_and_reruns(cluster, tmp_path):
    # A plain ray.cancel raises KeyboardInterrupt inside the running task; the worker lives on,
    # maybe with a half-done import, and takes the cluster's next task. It must end instead.
    import functools

    specs = _specs()
    table, pid_file = tmp_path / "t.csv", tmp_path / "stuck.pid"
    make_job = functools.partial(_stuck_factory, victim=specs[0].key, pid_file=str(pid_file))

    def interrupt_once_the_victim_runs(item, row):  # noqa: ANN001
        deadline = time.monotonic() + 60
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_on_fleet(
            make_job,
            specs,
            "cpu",
            lambda slug: table,
            ray=cluster,
            targets=node_targets(cluster, "cpu", 1),
            threads=1,
            on_progress=interrupt_once_the_victim_runs,
        )
    assert 1 <= len(_keys(table)) < len(specs)  # the rows written before the interrupt stay
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 30
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid), "the worker of the cancelled running task is still alive"
    run_on_fleet(
        make_job,
        specs,
        "cpu",
        lambda slug: table,
        ray=cluster,
        targets=node_targets(cluster, "cpu", 1),
        threads=1,
    )
    keys = _keys(table)
    assert sorted(keys) == sorted(s.key for s in specs) and len(keys) == len(set(keys))


def test_two_device_types_land_in_two_tables(cluster, tmp_path):
    import functools

    specs = _specs()[:2]
    make_job = functools.partial(_killing_factory, sim_device=True)
    targets = [Target(name, {"resources": {name: 1}}) for name in SIM_DEVICES]
    run = run_on_fleet(
        make_job,
        specs,
        "cpu",
        lambda slug: tmp_path / slug / "t.csv",
        ray=cluster,
        targets=targets,
        threads=1,
    )
    assert set(run.tables) == set(SIM_DEVICES)
    for slug in SIM_DEVICES:
        df = read_table(tmp_path / slug / "t.csv")
        assert sorted(df["key"]) == sorted(s.key for s in specs)
        assert df.attrs["meta"]["fingerprint"]["slug"] == slug


@dataclasses.dataclass
class _SlowJob(OpLatencyJob):
    """Holds each batch ``hold_s`` and appends (slug, start, end) to ``log``."""

    hold_s: float = 0.0
    log: str = ""

    def measure(self, items, on_round=None):  # noqa: ANN001
        start = time.time()
        time.sleep(self.hold_s)
        rows = super().measure(items, on_round)
        with open(self.log, "a") as f:
            f.write(f"{self.fingerprint['slug']} {start} {time.time()}\n")
        return rows


def _slow_factory(device: str, log: str = ""):
    job = _killing_factory(device, sim_device=True)
    fields = {f.name: getattr(job, f.name) for f in dataclasses.fields(OpLatencyJob)}
    return _SlowJob(**fields, hold_s=1.0, log=log)


def test_two_device_types_are_measured_at_the_same_time(cluster, tmp_path):
    import functools

    log = tmp_path / "spans.txt"
    make_job = functools.partial(_slow_factory, log=str(log))
    targets = [Target(name, {"resources": {name: 1}}) for name in SIM_DEVICES]
    run_on_fleet(
        make_job,
        _specs()[:1],
        "cpu",
        lambda slug: tmp_path / slug / "t.csv",
        ray=cluster,
        targets=targets,
        threads=1,
    )
    spans = {}
    for line in log.read_text().splitlines():
        slug, start, end = line.split()
        spans[slug] = (float(start), float(end))
    (a_start, a_end), (b_start, b_end) = (spans[slug] for slug in SIM_DEVICES)
    assert a_start < b_end and b_start < a_end  # the two held batches overlapped


def test_a_device_type_that_fails_stops_the_others(cluster, tmp_path):
    import functools

    (tmp_path / "blocked").write_text("a file where a folder should be")
    log = tmp_path / "spans.txt"
    make_job = functools.partial(_slow_factory, log=str(log))
    targets = [Target(name, {"resources": {name: 1}}) for name in SIM_DEVICES]
    folder = {SIM_DEVICES[0]: tmp_path / "blocked", SIM_DEVICES[1]: tmp_path / "ok"}
    started = time.monotonic()
    with pytest.raises(OSError):
        run_on_fleet(
            make_job,
            _specs()[:6],
            "cpu",
            lambda slug: folder[slug] / "t.csv",
            ray=cluster,
            targets=targets,
            threads=1,
        )
    assert time.monotonic() - started < 30


def test_cli_profile_with_ray_measures_every_op_of_the_space_once(cluster, tmp_path, capsys):
    # a local run measures each op of the space once (tests/latbench/test_profile.py); the
    # fleet run must end with that same op set, every op ok
    assert (
        main(
            [
                "profile",
                "dints",
                "--size",
                "small",
                "--device",
                "cpu",
                "--threads",
                "1",
                "--budget-ms",
                "2",
                "--warmup-ms",
                "1",
                "--ray",
                "--table",
                str(tmp_path / "ray.csv"),
            ]
        )
        == 0
    )
    keys = _keys(tmp_path / "ray.csv")
    assert sorted(keys) == sorted({s.key for s in get_space("dints").ops("small")})
    assert len(keys) == len(set(keys))
    assert set(read_table(tmp_path / "ray.csv")["status"]) == {"ok"}
    assert "retried after a lost task: 0" in capsys.readouterr().out


@pytest.mark.cuda
@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_tasks_hold_one_gpu_each(cluster, tmp_path):
    specs = _specs()[:4]
    make_job = op_job_factory(FAST, None)
    run = run_on_fleet(
        make_job,
        specs,
        "cuda:0",
        lambda slug: tmp_path / "t.csv",
        ray=cluster,
        targets=node_targets(cluster, "cuda:0", None),
    )
    (only,) = run.tables.values()
    assert len(only.measured) == len(specs)


def test_memory_screen_full_traces_on_ray_equal_the_serial_ones(cluster):
    from latbench.archs import sample_architectures
    from latbench.memory.steps import TrainConfig
    from latbench.predictors.memory import TrainingMemoryPredictor
    from latbench.predictors.memory_screen import full_predictions

    model = TrainingMemoryPredictor("rss_growth", TrainConfig(), workspace="cpu").fit([], [])
    archs = sample_architectures("dints", 3, "small", seed=3)
    serial = full_predictions(model, archs)
    assert list(full_predictions(model, archs, ray=cluster)) == list(serial)
