"""RT-DNAS' registrations (docs/papers.md): space ``msnas``, searches ``rtdnas`` and ``ga``,
protocol ``rtdnas`` (the ordinary validation against the paper's limits)."""

from latbench.papers import RTDNAS_LATENCY_UB_MS, RTDNAS_MIN_FPS
from latbench.papers.rtdnas import space
from latbench.plugins import register_protocol, register_search

register_search(
    "rtdnas",
    "latbench.papers.rtdnas.command:run",
    spaces=(space.SPACE,),
    help="RT-DNAS: cells under the latency bound L_ub, then the GA decoding of the paths",
)
register_search(
    "ga",
    "latbench.papers.rtdnas.command:ga",
    spaces=(space.SPACE,),
    help="RT-DNAS' GA decoding alone (synthetic path weights)",
)
register_protocol(
    "rtdnas",
    limits=(RTDNAS_LATENCY_UB_MS, RTDNAS_MIN_FPS),
    help=f"RT-DNAS: <= {RTDNAS_LATENCY_UB_MS:g} ms and >= {RTDNAS_MIN_FPS:g} FPS (unless "
    "--budget-ms/--min-fps say otherwise)",
)
