"""`inspector samples` and `sample:NAME`: listing sizes agree with the images themselves."""

from __future__ import annotations

import pytest

from inspector.cli import main
from inspector.options import Options
from inspector.sources.samples import list_samples, open_sample, sample_names

EXPECTED = {"debian-12-slim", "distroless-static", "distroless-base", "distroless-cc",
            "distroless-static-debug", "hello-debian", "hello-distroless", "hello-c-debian",
            "hello-cpp-debian", "distroless-python3", "hello-python-debian"}


def test_every_sample_is_listed_with_a_description():
    rows = {s.name: s for s in list_samples()}
    assert set(rows) == EXPECTED
    for s in rows.values():
        assert s.description, s.name
        assert 0 < s.compressed < s.uncompressed, s.name


@pytest.mark.parametrize("name", ["distroless-static", "distroless-static-debug"])
def test_listed_uncompressed_size_equals_the_layer_tars(name):
    listed = {s.name: s for s in list_samples()}[name]
    image = open_sample(name, Options(), reference=f"sample:{name}")
    total = 0
    for layer in image.layers:
        with layer.open_uncompressed() as tar:
            while chunk := tar.read(1 << 20):
                total += len(chunk)
    assert listed.uncompressed == total
    assert listed.compressed == sum(layer.compressed_size for layer in image.layers)


def test_samples_command_prints_one_line_per_sample(capsys):
    assert main(["samples"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sorted(line.split()[0] for line in lines) == sorted(f"sample:{n}" for n in sample_names())


def test_unknown_sample_is_one_line_error(capsys):
    assert main(["export", "sample:nope", "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no sample named 'nope'" in err[0]
