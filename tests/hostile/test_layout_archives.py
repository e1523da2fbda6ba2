"""Hostile outer archives (docker save / oci-archive tars read in place): header fields
that make Python's tarfile misbehave (a negative PAX size moves it backwards, a huge one
overflows) and random damage are one ``FormatError``-style line, never a traceback or a
loop (issue 11 item 2)."""

from __future__ import annotations

import io
import tarfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.errors import InspectorError
from inspector.options import Options
from inspector.sources.archive import TarStore
from inspector.sources.base import validate_image
from inspector.sources.docker_archive import open_docker_store
from tests.builders import ImageSpec, make_layer, write_docker_archive
from tests.hostile.clirun import assert_one_line_error, export

pytestmark = pytest.mark.timeout(120)


def _pax_archive(pax: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("manifest.json")
        info.size, info.pax_headers = 2, pax
        tar.addfile(info, io.BytesIO(b"[]"))
        info = tarfile.TarInfo("after")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"{}"))
    return buf.getvalue()


HEADERS = [  # (name, PAX records of the first member)
    ("negative size", {"size": "-512"}),
    ("more negative size", {"size": "-4096"}),
    ("size beyond int64", {"size": str(2 ** 70)}),
]


@pytest.mark.parametrize("name,pax", HEADERS, ids=[h[0] for h in HEADERS])
def test_outer_archive_header_fields(tmp_path, capsys, name, pax):
    path = tmp_path / "save.tar"
    path.write_bytes(_pax_archive(pax))
    assert_one_line_error(export(capsys, f"docker-archive:{path}", tmp_path / "cache"), str(path))


@pytest.fixture(scope="module")
def archive_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("archive") / "save.tar"
    write_docker_archive(path, [ImageSpec([make_layer({"etc/hostname": b"box\n"})], ref_name="box:1")],
                         "docker25")
    return path.read_bytes()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_outer_archive(archive_bytes, data):
    """Flipped bytes and truncation anywhere: a readable image or an ``InspectorError``."""
    damaged = bytearray(archive_bytes)
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(damaged) - 1))
        damaged[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(damaged)))
    try:
        store = TarStore(io.BytesIO(bytes(damaged[:cut])), where="fuzz")
        with open_docker_store(store, None, Options(), reference="fuzz", source="docker-archive") as image:
            validate_image(image)
            image.created_by()
    except InspectorError:
        pass
