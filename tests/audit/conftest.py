"""A session registry holding the fleet (``fleet.py``), and a fault proxy in front of it
that records every request (to count blob reads)."""

from __future__ import annotations

import pytest

from tests.audit.fleet import Fleet, build_fleet
from tests.registry.servers import FaultProxy, RegistryProcess
from tests.tools import require_tool


@pytest.fixture(scope="session")
def fleet_registry(tmp_path_factory):
    require_tool("docker-registry")
    reg = RegistryProcess(tmp_path_factory.mktemp("fleet-registry"),
                          tmp_path_factory.mktemp("fleet-storage"))
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def fleet(fleet_registry, tmp_path_factory) -> Fleet:
    require_tool("skopeo")
    return build_fleet(tmp_path_factory.mktemp("fleet-layouts"), fleet_registry.host)


@pytest.fixture(scope="session")
def _fleet_proxy(fleet_registry):
    proxy = FaultProxy(fleet_registry.host)
    yield proxy
    proxy.stop()


@pytest.fixture
def fleet_proxy(_fleet_proxy, fleet):
    _fleet_proxy.reset()
    yield _fleet_proxy
    _fleet_proxy.reset()
