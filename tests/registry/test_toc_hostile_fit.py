"""The TUI's fit toasts carry strings it does not choose — the base's reference in the TOC
notice (``fit.build.fetch_notice``), the working directory in the target, an image's
paths in a failed fit's first line — so they are shown as text, never read as Textual
markup: ``[/x]`` in a directory name raised ``MarkupError`` (a closing tag matching
nothing) and ``[b]`` vanished into bold. The real TOC-listed base of
``test_fit_build_toc.py`` on the real registry."""

from __future__ import annotations

import pytest

from inspector.options import Options
from inspector.visible import visible
from tests.registry.test_fit_build_toc import (  # noqa: F401 - toc_base: a fixture
    _notice,
    build_on_the_fit_screen,
    toc_base,
)
from tests.tui.helpers import sync

pytestmark = pytest.mark.registry

#: (name, the working directory's name: the built image's target lies in it)
DIRS = [
    ("a closing tag", "w[/x]"),
    ("a style", "w[b]bold"),
    ("a link", "[link=x]w"),
    ("a terminal escape", "w\x1b]0;title\x07\x1b[31mred"),
]


@pytest.mark.parametrize("name,directory", DIRS, ids=[d[0] for d in DIRS])
@sync
async def test_the_build_toasts_show_markup_as_text(toc_base, tmp_path, monkeypatch,  # noqa: F811
                                                    name, directory):
    from inspector.tui.app import InspectorApp

    work = tmp_path / directory
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    app = InspectorApp(["sample:hello-debian"], Options(cache_dir=tmp_path / "cache"))
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await build_on_the_fit_screen(pilot, toc_base)
        shown = [n.message for n in app._notifications]
        building = next(t for t in shown if t.startswith("building "))
        assert f"/{visible(directory)}/fit-" in building and building.endswith(_notice(toc_base))
        assert any(t.startswith("built oci:") and f"/{visible(directory)}/fit-" in t for t in shown), shown
        assert pane.built.startswith("built oci:")
        # each toast as Textual draws it (``Toast.render``): the text itself, no markup
        from textual.widgets._toast import Toast

        drawn = [Toast(n).render().plain for n in app._notifications]
        assert sum(f"/{visible(directory)}/fit-" in t for t in drawn) == 2, drawn
