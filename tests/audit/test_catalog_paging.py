"""``audit --catalog`` pagination against the real registry behind a proxy that rewrites
its ``Link`` headers: a link back to a page already read, off the registry, or one that
only changes the URL is one error line after a bounded number of requests; a normal
catalog paged a few entries at a time still lists everything (issue 23 item 8)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.audit import inputs as inputs_mod
from inspector.errors import InspectorError
from inspector.options import Options

ROOT = Path(__file__).resolve().parents[2]
#: entries per page in these tests (the fleet has 20 repositories of 2 tags)
PAGE = 3


def _options(tmp_path: Path) -> Options:
    return Options(cache_dir=tmp_path / "cache", quiet=True)


LOOPS = [  # (name, path part whose answer gets the Link, its target from the request path,
    #          error wording, the most requests to that part)
    ("catalog page links to itself", "/v2/_catalog", lambda path: path, "points back", 1),
    ("second page links to the first", "last=", lambda path: f"/v2/_catalog?n={PAGE}",
     "points back", 2),
    ("tags page links to itself", "/tags/list", lambda path: path, "points back", 1),
    ("absolute link to the same page", "/v2/_catalog",
     lambda path: "http://{host}" + path, "points back", 1),
    ("link off the registry", "/v2/_catalog",
     lambda path: f"http://127.0.0.2:9/v2/_catalog?n={PAGE}", "points off", 1),
    ("link that only changes the URL", "/v2/_catalog", lambda path: path + "&again=1",
     "brought nothing new", inputs_mod.MAX_STALE_PAGES + 1),
]


def _install(proxy, part, target):
    def link(path: str) -> str:
        return target(path).replace("{host}", proxy.host)

    proxy.faults.link[part] = link


@pytest.mark.parametrize("name, part, target, wording, most", LOOPS, ids=[c[0] for c in LOOPS])
def test_a_looping_link_is_one_error_after_bounded_requests(
        fleet, fleet_proxy, tmp_path, monkeypatch, name, part, target, wording, most):
    monkeypatch.setattr(inputs_mod, "PAGE_SIZE", PAGE)
    _install(fleet_proxy, part, target)
    with pytest.raises(InspectorError) as info:
        inputs_mod.list_catalog(f"{fleet_proxy.host}/fleet", _options(tmp_path), "all")
    line = str(info.value)
    assert "\n" not in line and fleet_proxy.host in line and wording in line, line
    assert 1 <= len(fleet_proxy.requests_to(part)) <= most


def test_a_looping_link_ends_the_cli_with_one_line(fleet, fleet_proxy, tmp_path):
    _install(fleet_proxy, "/v2/_catalog", lambda path: path)
    env = {**os.environ, "DOCKER_CONFIG": str(tmp_path / "no-docker-config")}
    done = subprocess.run([sys.executable, "-m", "inspector", "audit", "--catalog",
                           f"{fleet_proxy.host}/fleet", "--cache-dir", str(tmp_path / "cache")],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Link header" in lines[0] and fleet_proxy.host in lines[0], lines
    assert len(fleet_proxy.requests_to("/v2/_catalog")) == 1


def test_small_pages_still_list_every_repository_and_tag(fleet, fleet_proxy, tmp_path,
                                                          monkeypatch):
    monkeypatch.setattr(inputs_mod, "PAGE_SIZE", 1)  # one repository or tag per page
    listing = inputs_mod.list_catalog(f"{fleet_proxy.host}/fleet", _options(tmp_path), "all")
    pushed = [*fleet.references, f"{fleet.host}/fleet/app00:v1"]  # as fleet.py pushes them
    assert sorted(listing.references) == sorted(r.replace(fleet.host, fleet_proxy.host)
                                                for r in pushed)
    assert len(fleet_proxy.requests_to("/v2/_catalog")) >= len(fleet.names)
    # (distribution 2.8 sends each tag list whole; the tag loop above is the proxy's Link)
