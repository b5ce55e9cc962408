"""ST-NAS' registrations (docs/papers.md): spaces ``stnas-encoder``, ``stnas-decoder``, search
and protocol ``stnas``."""

from latbench.papers.stnas import decoder, encoder
from latbench.plugins import register_protocol, register_search

register_search(
    "stnas",
    "latbench.papers.stnas.command:run",
    spaces=(encoder.SPACE, decoder.SPACE),
    help="ST-NAS: encoder depth + decoder mixed ops (--predictor: encoder's, decoder's)",
)
register_protocol(
    "stnas",
    run="latbench.papers.stnas.protocol:run",
    space=decoder.SPACE,
    help="ST-NAS: FPS = 1/T_inf, encode a frame + decode the 11-frame window (ARCH an "
    "stnas-decoder)",
)
