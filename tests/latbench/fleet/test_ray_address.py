"""``--ray ADDRESS``: an address where nothing listens fails within seconds in one line (it
retried for more than 590 s), and a malformed one is one line, not a ValueError traceback
."""

from __future__ import annotations

import time

import pytest

from latbench.cli import main
from latbench.errors import LatbenchError
from latbench.fleet.cluster import parse_address


@pytest.mark.parametrize(
    "address, needle",
    [
        ("garbage::address", "no valid host"),
        (":6379", "no valid host"),
        ("http://127.0.0.1:8265", "scheme http:// is not a cluster address"),
        ("127.0.0.1:99999", "port '99999' is not a number from 1 to 65535"),
        ("127.0.0.1", "no valid host"),
    ],
)
def test_malformed_addresses_are_one_line(address, needle, capsys):
    with pytest.raises(LatbenchError, match=needle):
        parse_address(address)
    assert main(["profile", "nasbench201", "--ray", address]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and "Traceback" not in err[0]


def test_nothing_listening_fails_within_seconds(capsys):
    t0 = time.monotonic()
    assert main(["profile", "nasbench201", "--ray", "127.0.0.1:1"]) == 2
    assert time.monotonic() - t0 < 15
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nothing accepts a connection at 127.0.0.1:1" in err[0]


def test_valid_forms_parse():
    assert parse_address("10.0.0.5:6379") == ("10.0.0.5", 6379)
    assert parse_address("ray://head:10001") == ("head", 10001)
    assert parse_address("[::1]:6379") == ("::1", 6379)


def test_a_server_that_is_no_ray_head_fails_within_seconds(capsys):
    """An HTTP server at the address (a wrong port): ray.init retried for 13 minutes."""
    import http.server
    import threading

    class Quiet(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # no request log on stderr
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"127.0.0.1:{server.server_address[1]}"
    try:
        t0 = time.monotonic()
        assert main(["profile", "nasbench201", "--ray", address]) == 2
        assert time.monotonic() - t0 < 15
    finally:
        server.shutdown()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"what listens at {address} is no Ray head" in err[0], err
