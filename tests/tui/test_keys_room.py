"""Keys a student tries (issue 24 items 7, 8, 9), at 80x24 and 160x48: keys that do not
apply say so, the tree's keys work from any pane, Ctrl+M is not advertised, a typo'd
sample gets "did you mean", the footer keeps Quit and Help, a tiny terminal says so, and
Ctrl+C exits 130."""

from __future__ import annotations

import pytest
from textual.widgets import Footer

from inspector.tui.app import InspectorApp
from inspector.tui.bindings import FILE_VIEW, HELP_NOTES, TABLES
from inspector.tui.screens.base import too_small
from inspector.tui.screens.prompt import PromptScreen, near_sample
from inspector.tui.widgets.file_rows import ATTRS_MIN_WIDTH
from inspector.tui.widgets.panes import LayersTable
from tests.tui.helpers import settle, sync

SIZES = [(80, 24), (160, 48)]
PAIR = ["sample:debian-12-slim", "sample:distroless-static"]


def size_id(size):
    return f"{size[0]}x{size[1]}"


def messages(app) -> str:
    """Every toast so far (recorded: a toast expires, and the app forgets it)."""
    return "\n".join(app.toasts_seen)


def recording(app):
    """``app`` with every toast it is asked for kept in ``app.toasts_seen``."""
    app.toasts_seen = []
    notify = app.notify

    def recorded(message, *args, **kwargs):
        app.toasts_seen.append(message)
        return notify(message, *args, **kwargs)

    app.notify = recorded
    return app


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@sync
async def test_tree_keys_work_from_the_layers_pane(options, size):
    app = InspectorApp(["sample:distroless-static"], options)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        app.screen.query_one(LayersTable).focus()
        await pilot.pause()
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen) and app.screen.id == "filter-prompt"
        await pilot.press(*"passwd", "enter")  # typed into the prompt, not run as keys
        await settle(pilot)
        view = app.screen.query_one("#files")
        assert view.has_focus and view.filter_text == "passwd"
        assert app.screen.query_one("TabbedContent").active == "tab-files"
        app.screen.query_one(LayersTable).focus()
        await pilot.press("slash")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen) and app.screen.id == "search-prompt"


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@sync
async def test_inspect_keys_in_compare_say_so(options, size):
    app = recording(InspectorApp(PAIR, options))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert "Ctrl+L shows one image's layers in inspect" in messages(app)
        await pilot.press("ctrl+a")
        await pilot.pause()
        assert "Ctrl+A shows one image's layers in inspect" in messages(app)
        await pilot.press("ctrl+f")  # from the Overview: the Files tab's filter
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen) and app.screen.id == "filter-prompt"
        await pilot.press("escape")
        column = app.screen.query_one("#files-0")
        assert column.has_focus
        await pilot.press("ctrl+b")
        await pilot.pause()
        if column.size.width < ATTRS_MIN_WIDTH:  # too narrow for the attributes: says so
            assert "Ctrl+B: a column needs" in messages(app) and column.show_attrs
        else:  # wide enough: it works
            assert not column.show_attrs


def test_ctrl_m_is_not_a_key_of_its_own():
    keys = {k for b in FILE_VIEW for k in b.key.split(",")}
    assert "ctrl+m" not in keys
    helped = " ".join(b.description for _, table in TABLES for b in table) + HELP_NOTES
    assert "Ctrl+M is\nEnter in terminals" in helped or "Ctrl+M is Enter" in helped


# (name, typed, suggestion)
NEAR = [
    ("a missing letter", "distroless-statc", "distroless-static"),
    ("a swapped pair", "debain-12-slim", "debian-12-slim"),
    ("the sample itself", "distroless-static", None),
    ("a registry name", "alpine", None),
    ("a tag", "distroless-statc:latest", None),
    ("a path", "./distroless-statc", None),
    ("empty", "", None),
]


@pytest.mark.parametrize(("name", "typed", "expected"), NEAR, ids=[n[0] for n in NEAR])
def test_near_sample(name, typed, expected):
    assert near_sample(typed) == expected


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@sync
async def test_add_dialog_suggests_the_nearest_sample(options, size):
    app = recording(InspectorApp(PAIR, options))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("a", *"distroless-bse", "enter")
        await pilot.pause()
        prompt = app.screen
        assert isinstance(prompt, PromptScreen)
        assert "did you mean distroless-base?" in prompt.title_text
        await pilot.press("enter")  # takes the suggestion
        await settle(pilot)
        assert app.screen.references[-1] == "sample:distroless-base"
        assert "cannot resolve" not in messages(app)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@sync
async def test_footer_keeps_quit_and_help(options, size):
    app = InspectorApp(PAIR, options)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        footer = app.screen.query_one(Footer)
        keys = [k for k in footer.children if k.region.width]
        shown = [getattr(k, "description", "") for k in keys
                 if k.region.right <= app.size.width - 12]  # left of the palette key
        assert "Quit" in shown and "Help" in shown


# (name, size, hint?)
SMALL = [("80x24", (80, 24), False), ("60x16", (60, 16), False), ("40x10", (40, 10), True),
         ("120x12", (120, 12), True), ("50x40", (50, 40), True)]


@pytest.mark.parametrize(("name", "size", "hint"), SMALL, ids=[s[0] for s in SMALL])
def test_too_small(name, size, hint):
    assert bool(too_small(*size)) == hint


@sync
async def test_tiny_terminal_says_so_and_shows_the_table(options):
    app = InspectorApp(PAIR, options)
    async with app.run_test(size=(40, 10)) as pilot:
        await settle(pilot)
        hint = app.screen.query_one("#too-small")
        assert hint.display and "terminal too small (40x10)" in str(hint.render())
        table = app.screen.query_one("#overview")
        assert table.region.height > 0  # the intro box is hidden: the rows are on screen
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert not hint.display


@pytest.mark.parametrize("keys", [("ctrl+c",), ("q",)], ids=["ctrl+c", "q"])
@sync
async def test_ctrl_c_exits_130(options, keys):
    app = InspectorApp(PAIR, options)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(*keys)
        await pilot.pause()
    assert app.return_code == (130 if keys == ("ctrl+c",) else 0)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@sync
async def test_footer_hints_while_the_app_is_blurred(options, size):
    """A browser page blurs the app before its first key (textual-serve sends AppBlur):
    the footer must still show the screen's keys, before any key is pressed."""
    from textual import events

    app = InspectorApp(PAIR, options)
    async with app.run_test(size=size) as pilot:
        app.post_message(events.AppBlur())
        await settle(pilot)
        assert not app.app_focus  # nothing pressed yet
        footer = app.screen.query_one(Footer)
        described = [getattr(k, "description", "") for k in footer.children]
        assert "Quit" in described and "Show its files" in described
