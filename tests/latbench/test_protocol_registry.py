"""latbench.protocol_registry: a frame protocol's ``run`` named as ``"module:function"``."""

from __future__ import annotations

import pytest

from latbench.errors import LatbenchError
from latbench.protocol_registry import Protocol


def test_a_run_target_is_imported_when_it_runs():
    assert Protocol(
        "p", "h", run="latbench.deploy.protocols:ProtocolOptions"
    ).runner().__name__ == ("ProtocolOptions")


@pytest.mark.parametrize("target", ["nosuchmodule_xyz:run", "latbench.errors:nosuch", "noColon"])
def test_a_run_target_that_does_not_import_is_one_error_naming_it(target):
    """A plugin's protocol naming a missing module or function was a traceback in validate."""
    with pytest.raises(LatbenchError, match=f"protocol 'p': cannot import '{target}'"):
        Protocol("p", "h", run=target).runner()
