"""What the user types into the Files tree — a filter (Ctrl+F) that does not parse, a
search (/) that finds nothing, a filter repeated by the status line — is shown as text:
never read as Textual markup (``[/x]`` raised ``MarkupError`` when the toast or the
status line was drawn: the TUI crashed; ``[b]`` turned into bold, ``[link=x]`` into a
link, both vanishing from what was typed) and through ``visible()`` (the hostile strings
of ``tests/hostile/strings.py``). Each toast is drawn as Textual draws it
(``Toast.render``), the status line with the screen."""

from __future__ import annotations

from textual.notifications import Notification
from textual.widgets._toast import Toast

from inspector.tui.app import InspectorApp
from inspector.tui.widgets.file_view import FileView
from tests.hostile.strings import HOSTILE
from tests.tui.helpers import settle, sync
from tests.tui.test_hostile_tui import check, snap

#: (name, what is typed, how it must show): Textual markup, then the hostile strings
TYPED = [
    ("a closing tag", "w[/x]", "w[/x]"),
    ("a style", "w[b]bold", "w[b]bold"),
    ("a link", "[link=x]w", "[link=x]w"),
    ("styles closed", "[bold red]m[/bold red][/]", "[bold red]m[/bold red][/]"),
    *((h.name, h.raw, h.shown) for h in HOSTILE),
]


def record(app) -> list[Notification]:
    """Every toast the app is asked for, as it is asked (a toast expires: the app's own
    list forgets it on a slow machine)."""
    seen: list[Notification] = []
    notify = app.notify

    def recorded(message, *, title="", severity="information", timeout=None, markup=True):
        seen.append(Notification(message, title, severity, timeout or 5, markup=markup))
        return notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    app.notify = recorded
    return seen


@sync
async def test_typed_filters_and_searches_show_as_text(options):
    app = InspectorApp(["sample:distroless-static"], options)
    seen = record(app)
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        view = app.screen.query_one("#files", FileView)
        for name, typed, shown in TYPED:
            since = len(seen)
            assert not view.apply_filter(f"re:({typed}"), name  # an unclosed group
            assert not view.search(f"zz{typed}"), name
            await pilot.pause()
            toasts = [Toast(n).render().plain for n in seen[since:]]  # as Textual draws it
            assert len(toasts) == 2, (name, toasts)
            check("\n".join(toasts), f"filter 're:({shown}': ", f"no path matches 'zz{shown}'")
            # a filter that parses: the status line repeats it
            assert view.apply_filter(f"*{typed}*"), name
            status = next(line for line in (await snap(pilot)).splitlines() if "filter: " in line)
            # (whitespace in a filter is collapsed to one space: the shown form differs)
            check(status, *([f"filter: *{shown}*"] if typed.split() == [typed] else []))
            assert view.apply_filter("")
