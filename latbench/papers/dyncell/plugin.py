"""The dynamic cells' registrations, through the public plugin API as a user's plugin makes
them: the space ``dyncell`` (its module registers it on import) and the protocol ``dyncell``.
The paper's controller is trained by RL; no search here."""

# ruff: noqa: F401  (imported for its registrations)
from latbench.papers.dyncell import space
from latbench.plugins import register_protocol

register_protocol(
    "dyncell",
    run="latbench.papers.dyncell.protocol:run",
    space="dyncell",
    help="dynamic cells: per-frame mean ± std, the first frame through the full network "
    "(--static; ARCH a dyncell network)",
)
