"""The dynamic cells' registrations through the public plugin API: the space ``dyncell``
(registered when its module is imported) and the protocol ``dyncell``; the paper's controller
is trained by RL, so there is no search."""

from latbench.papers.dyncell import space
from latbench.plugins import register_protocol

register_protocol(
    "dyncell",
    run="latbench.papers.dyncell.protocol:run",
    space=space.SPACE,
    help="dynamic cells: per-frame mean ± std, the first frame through the full network "
    "(--static; ARCH a dyncell network)",
)
