"""Options and progress shared by the commands that measure, here or on a Ray fleet."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from latbench.cli import ui
from latbench.cli.argtypes import SIZE, OneOf, nonnegative_float, positive_float, positive_int
from latbench.errors import NOT_A_TABLE, LatbenchError, TableError
from latbench.tablerun.paths import default_table_path

if TYPE_CHECKING:  # the parsers need none of these: torch and pandas load when a command runs
    from rich.progress import Progress, TaskID

    from latbench.tablerun.driver import TableRun
    from latbench.timing import Timer

DEFAULT_ROUNDS = 20


def add_measuring_args(
    p: argparse.ArgumentParser,
    *,
    budget_ms: float,
    warmup_ms: float,
    what: str,
    schema: str = "latbench.latency",
) -> None:
    """--size/--device/--threads/--out/--table and the timing budgets, with these defaults."""
    p.add_argument(
        "--size",
        type=SIZE,
        help="small: shapes for a quick CPU run; paper: the paper's shapes "
        "(default: the space's own: paper for nasbench201, small otherwise)",
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default: cpu)")
    p.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        help="torch CPU threads (default: 1, measured on the per-thread CPU clock; "
        "more threads are timed on the wall clock and warn on a loaded machine)",
    )
    p.add_argument(
        "--clock",
        type=OneOf("latbench.timing.cpu", "CLOCK_CHOICES"),
        default="auto",
        help="CPU clock: thread (CPU time of the measuring thread: latency on a dedicated core), "
        "wall (elapsed time), auto (thread with 1 thread, else wall; default)",
    )
    add_table_args(p, schema)
    p.add_argument(
        "--worker-rss",
        type=positive_float,
        default=4096.0,
        metavar="MIB",
        help="start a fresh measuring process when the current one holds more than "
        "MIB MiB of resident memory after a group (default: 4096)",
    )
    p.add_argument(
        "--budget-ms",
        type=positive_float,
        default=budget_ms,
        help=f"measuring budget per {what} (default: {budget_ms:g})",
    )
    p.add_argument(
        "--warmup-ms",
        type=nonnegative_float,
        default=warmup_ms,
        help=f"warm-up budget per {what} (default: {warmup_ms:g})",
    )
    p.add_argument(
        "--target-ci",
        type=positive_float,
        default=0.01,
        help="stop when the median's 95%% CI half-width is below this fraction",
    )
    p.add_argument(
        "--rounds",
        type=positive_int,
        default=DEFAULT_ROUNDS,
        help=f"> 1: measure {what}s round-robin in this many rounds of "
        "budget/rounds each, so a shared machine's drift falls on all alike "
        f"(1: one after another; default: {DEFAULT_ROUNDS})",
    )
    p.add_argument(
        "--no-reference",
        dest="reference",
        action="store_false",
        help="do not measure the drift reference (a small fixed network) in every round "
        "(CPU, rounds > 1); without it the *_corrected_ms columns stay empty",
    )
    p.add_argument(
        "--drift-from",
        type=Path,
        help="take the nominal reference time (drift 1.0) from this table, so that "
        "tables measured in separate runs share one drift scale",
    )


def nominal_reference_ms(table: Path, timer: Timer | None = None) -> float:
    """The median ``reference_ms`` of a table's rows.

    A missing or unreadable table, one without reference rows, or (with ``timer``) one whose
    reference was timed with another clock, thread count or device than ``timer``'s (where the
    table records them) is a ``TableError``."""
    from latbench.tables import read_table
    from latbench.timed import REFERENCE_ID

    if not table.is_file():
        raise TableError("no such table")
    df = read_table(table)
    meta = df.attrs.get("meta", {})
    if "reference_ms" not in df:
        raise TableError(
            f"a {meta.get('schema', '?')} table has no reference_ms column; expected an op or "
            "networks table measured with --rounds > 1"
        )
    values = df["reference_ms"].dropna()
    if not len(values):
        raise TableError(
            "no row has a reference_ms (measure it with --rounds > 1, without --no-reference)"
        )
    protocol = meta.get("protocol") or {}
    if protocol.get("reference") != REFERENCE_ID:
        raise TableError(
            f"its reference_ms was measured on another drift reference "
            f"({protocol.get('reference')!r}; this latbench: {REFERENCE_ID!r}); re-measure that "
            "table or leave out --drift-from"
        )
    if timer is not None:
        from latbench.device import fingerprint
        from latbench.profile import protocol_of

        ours, _ = protocol_of(timer)
        slug = fingerprint(timer.device, threads=ours.get("threads"))["slug"]
        mine = {"clock": ours.get("clock"), "threads": ours.get("threads"), "device": slug}
        recorded = {k: protocol.get(k) for k in ("clock", "threads")}
        recorded["device"] = (meta.get("fingerprint") or {}).get("slug")
        differ = [
            f"{k} {recorded[k]!r}, not {v!r}"
            for k, v in mine.items()
            if recorded[k] is not None and recorded[k] != v
        ]
        if differ:
            raise TableError(
                f"its reference was timed with {'; '.join(differ)}: its time is no nominal for "
                "this run; give a table measured like this run, or leave out --drift-from"
            )
    return float(values.median())


def table_arg(schema: str) -> Callable[[str], Path]:
    """The ``--table`` type of a command writing ``schema`` tables: a directory, or an existing
    table whose side-car names another schema, is a usage error naming both (read with the
    strict JSON reader only: parsing stays free of pandas)."""
    from latbench.jsonio import loads, read_text

    def parse(text: str) -> Path:
        path = Path(text)
        if path.is_dir():
            raise argparse.ArgumentTypeError(
                f"{path}: is a directory; expected a table file "
                "(NAME.csv beside its NAME.meta.json side-car)"
            )
        if path.suffix.lower() == ".json":
            raise argparse.ArgumentTypeError(f"{path}: {NOT_A_TABLE}")
        side = path.with_name(path.name.removesuffix(".csv") + ".meta.json")
        if not (path.is_file() and side.is_file()):
            return path
        try:
            found = loads(read_text(side), str(side)).get("schema")
        except (OSError, LatbenchError, AttributeError):
            return path  # a damaged side-car: the run names it, with its line and field
        if found != schema:
            raise argparse.ArgumentTypeError(
                f"{path}: is a {found} table (its side-car's "
                f"schema); this command writes {schema} tables"
            )
        return path

    return parse


def add_table_args(p: argparse.ArgumentParser, schema: str = "latbench.latency") -> None:
    """--out/--table/--lock-timeout/--item-timeout of a command writing ``schema`` tables."""
    p.add_argument(
        "--out",
        type=Path,
        help="tables root; the table goes under OUT/<device-slug>/ (default: "
        "$LATBENCH_HOME, else ./latbench-tables; the repository's "
        "device_profiles/ is reference data, written only when named here)",
    )
    p.add_argument("--table", type=table_arg(schema), help="write to this CSV instead")
    p.add_argument(
        "--lock-timeout",
        type=nonnegative_float,
        metavar="S",
        help="another run writing the same table: wait at most S seconds, then "
        "stop with an error (default: wait for it)",
    )
    p.add_argument(
        "--item-timeout",
        type=nonnegative_float,
        default=600.0,
        metavar="S",
        help="wall-clock limit on one item making no progress: each of its turns (build, warm-up, "
        "its slice of an interleaved round) must end within S seconds, whatever the group size; "
        "past it the measuring process is killed, the item recorded status=timeout and the run "
        "goes on (default: 600; 0: no limit)",
    )


def item_timeout_s(args: argparse.Namespace) -> float | None:
    """``--item-timeout`` in seconds, None for no limit (0 or below, or a command without it)."""
    limit = getattr(args, "item_timeout", None)
    return limit if limit and limit > 0 else None


def run_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``run_into_table`` options the command line sets; from the command line
    (``args.in_worker``), items are measured in a watched worker process."""
    from latbench.tablerun.worker import InProcess, Worker

    def note(text: str) -> None:
        ui.err_console.print(f"latbench: {text}", highlight=False, soft_wrap=True)

    return {
        "lock_timeout_s": args.lock_timeout,
        "executor": (
            Worker(item_timeout_s(args), getattr(args, "worker_rss", None), note)
            if getattr(args, "in_worker", False)
            else InProcess()
        ),
        "on_note": note,
    }


def timer_from_args(args: argparse.Namespace, **timer_options: Any) -> tuple[Timer, str]:
    """The timer the options describe, and the slug of the device it measures."""
    from latbench.device import fingerprint
    from latbench.timed import DRIFT_REFERENCE
    from latbench.timing import TimingConfig, make_timer, min_sample_ms_for, resolve_clock

    cpu = args.device.split(":")[0] == "cpu"
    clock = resolve_clock(args.clock, args.threads) if cpu else "wall"
    config = TimingConfig(
        warmup_ms=args.warmup_ms,
        budget_ms=args.budget_ms,
        target_rel_ci=args.target_ci,
        min_sample_ms=min_sample_ms_for(args.device, clock),
        rounds=args.rounds,
        reference=DRIFT_REFERENCE if cpu and args.reference and args.rounds > 1 else None,
    )
    if cpu:
        timer_options["clock"] = clock
    timer = make_timer(args.device, config, threads=args.threads, **timer_options)
    return timer, fingerprint(args.device, threads=args.threads)["slug"]


def set_drift_nominal(timer: Timer, args: argparse.Namespace, table: Path) -> None:
    """Drift 1.0 = the reference time of ``--drift-from`` (a ``TableError`` naming it when it
    has none fit for ``timer``), else of ``table`` when resumed (else the run's first group:
    ``CpuTimer.reference_nominal_ms``)."""
    if not hasattr(timer, "reference_nominal_ms"):
        return
    try:
        nominal = nominal_reference_ms(args.drift_from or table, timer if args.drift_from else None)
    except TableError as exc:
        if args.drift_from:
            raise TableError(f"--drift-from {args.drift_from}: {exc}") from None
        nominal = None
    timer.reference_nominal_ms = nominal


class RowAdvancer:
    """Progress callbacks for ``run_into_table``: one step per row written or found done, and
    with interleaved rounds a fraction of the group per round (so the bar and its ETA move
    while a group is measured, not only when it ends)."""

    def __init__(
        self,
        bar: Progress,
        task: TaskID,
        label: Callable[[Any], str],
        value: Callable[[dict[str, Any]], str] | None = None,
    ):
        self.bar, self.task, self.label = bar, task, label
        self.value = value or (lambda row: f"{row['latency_median_ms']:.3f} ms")
        self.done = 0

    def __call__(self, item: Any, row: dict[str, Any] | None) -> None:
        status = "cached" if row is None else row["status"]
        if row is not None and status == "ok":
            status = self.value(row)
        self.done += 1
        self.bar.update(self.task, completed=self.done, status=f"{self.label(item)}: {status}")

    def on_round(self, done: int, rounds: int, n_items: int) -> None:
        self.bar.update(
            self.task,
            completed=self.done + n_items * done / rounds,
            status=f"round {done}/{rounds} of {n_items} interleaved",
        )


FAILED_SHOWN = 3  # failed rows printed: status, key, first line of the error


def measure_locally(
    args: argparse.Namespace,
    timer: Timer,
    path: Path,
    header: str,
    task: str,
    total: int,
    label: Callable[[Any], str],
    measure: Callable[..., TableRun],
) -> int:
    """Print ``header``, run ``measure(on_progress=, on_round=, **run_options(args))`` into
    ``path`` under a progress bar; print what it measured, skipped and recorded as failed."""
    set_drift_nominal(timer, args, path)
    ui.console.print(header)
    with ui.progress_bar() as bar:
        advance = RowAdvancer(bar, bar.add_task(task, total=total, status=""), label)
        result = measure(on_progress=advance, on_round=advance.on_round, **run_options(args))
    ui.console.print(
        f"measured {len(result.measured)}, already in table {len(result.skipped)}, "
        f"failed {len(result.failed)} (recorded with their error) -> {result.path}"
    )
    failed = [row for row in result.rows if row.get("status") != "ok"]
    for key, row in list(zip(result.failed, failed))[:FAILED_SHOWN]:
        error = str(row.get("error") or "").strip().splitlines() or [""]
        line = f"  {row.get('status')}: {key[:100]}: {error[0][:200]}"
        ui.console.print(line, soft_wrap=True, highlight=False)
    if len(failed) > FAILED_SHOWN:
        ui.console.print(f"  ... and {len(failed) - FAILED_SHOWN} more (the table's error column)")
    return 0


def add_ray_args(
    p: argparse.ArgumentParser,
    ray_help: str = "measure on a Ray cluster: ADDRESS of its head (`auto`: the cluster `ray "
    "start` made on this machine), or no value for a local Ray; workers measure, only this "
    "process writes the tables, one table per device type of the cluster (needs `pip install "
    "'latbench[ray]'`)",
) -> None:
    """--ray [ADDRESS] and --ray-cpus."""
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS", help=ray_help)
    p.add_argument(
        "--ray-cpus",
        type=positive_int,
        metavar="N",
        help="a local Ray (--ray without ADDRESS) uses N CPUs (default: all)",
    )


def run_fleet(
    args: argparse.Namespace,
    make_job: Any,
    items: list[Any],
    name: str,
    label: Callable[[Any], str],
    value: Callable[[dict[str, Any]], str] | None = None,
    threads: int | None = None,
) -> int:
    """Measure ``items`` with ``make_job`` on the fleet ``args.ray`` names; print the summary.
    Rows go to ``--table`` for a fleet of one device type, else to
    ``<--out or tables home>/<slug>/<name>.csv``."""
    from latbench.fleet import connect, node_targets, run_on_fleet

    slugs: set[str] = set()

    def table_for(slug: str) -> Path:
        if args.table is None:
            return default_table_path(slug, name, args.out)
        if slugs - {slug}:
            raise LatbenchError(
                f"--table {args.table} names one file, but the fleet has devices "
                f"{', '.join(sorted({*slugs, slug}))}; use --out DIR to get one table per device"
            )
        slugs.add(slug)
        return args.table

    ray = connect(None if args.ray == "local" else args.ray, args.ray_cpus)
    targets = node_targets(ray, args.device, threads)
    ui.console.print(
        f"Ray fleet: {len(targets)} node(s) with room for a {args.device} task; "
        f"{len(items)} item(s) of {name}"
    )
    options = run_options(args)
    with ui.progress_bar() as bar:
        task = bar.add_task(name, total=len(items), status="")
        advance = RowAdvancer(bar, task, label, value)
        result = run_on_fleet(
            make_job,
            items,
            args.device,
            table_for,
            ray=ray,
            targets=targets,
            threads=threads,
            on_progress=advance,
            on_note=options["on_note"],
            lock_timeout_s=options["lock_timeout_s"],
        )
    ui.console.print(result.summary(), highlight=False)
    return 0
