"""Dynamic cells' registrations (docs/papers.md): space and protocol ``dyncell``; no search (RL)."""

from latbench.papers.dyncell import space
from latbench.plugins import register_protocol

register_protocol(
    "dyncell",
    run="latbench.papers.dyncell.protocol:run",
    space=space.SPACE,
    help="dynamic cells: per-frame mean ± std, the first frame through the full network "
    "(--static; ARCH a dyncell network)",
)
