"""ST-NAS' registrations, through the public plugin API as a user's plugin makes them: the
spaces ``stnas-encoder`` and ``stnas-decoder`` (their modules register them on import), the
search ``stnas`` and the protocol ``stnas``."""

# ruff: noqa: F401  (imported for their registrations)
from latbench.papers.stnas import decoder, encoder
from latbench.plugins import register_protocol, register_search

register_search(
    "stnas",
    "latbench.papers.stnas.command:run",
    spaces=("stnas-encoder", "stnas-decoder"),
    help="ST-NAS: encoder depth + decoder mixed ops (--predictor: encoder's, decoder's)",
)
register_protocol(
    "stnas",
    run="latbench.papers.stnas.protocol:run",
    space="stnas-decoder",
    help="ST-NAS: FPS = 1/T_inf, encode a frame + decode the 11-frame window (ARCH an "
    "stnas-decoder)",
)
