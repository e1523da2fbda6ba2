"""Hostile strings in every TUI widget but the Files tree rows (issue 23 item 6, TUI part):
file names, a link target, an /etc/passwd user, a package, the config (User, Env, Labels,
history) and a file's content hold the table of ``tests/hostile/strings.py`` plus Rich
markup. Whatever the screens show — titles, the layers and details panes, the Packages,
Categories, Config and Efficiency tabs, the compare Overview and package diff, the
status line, toasts, prompts and the viewer — must hold no byte a terminal obeys (a file
named ``ESC ] 0 ; pwned BEL`` must not retitle it) and show markup as typed."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from inspector.tui.app import InspectorApp
from inspector.tui.screens.viewer import ContentScreen
from inspector.tui.widgets.file_view import FileView
from inspector.tui.widgets.panes import LayersTable
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout
from tests.hostile.strings import HOSTILE, assert_inert, by_name
from tests.tui.helpers import settle, sync

#: Rich markup that must show as typed (read as markup it vanishes, or raises)
MARKUP = "[bold red]m[/bold red][/]"
NAMES = [h for h in HOSTILE if h.in_path and h.name != "invalid-utf8"]
TITLE = by_name("osc-title")
SIZE = (200, 60)


def hostile_image(root) -> str:
    files: dict = {f"etc/{h.name}-{h.raw}": b"x" for h in NAMES}
    files[f"etc/m-{MARKUP}"] = b"x"
    files["etc/link"] = Entry("symlink", target=f"/etc/{TITLE.raw}")
    files["bin/sh"] = Entry("file", b"\x7fELF" + b"\0" * 60, mode=0o755)
    files["etc/passwd"] = (f"root:x:0:0::/root:/bin/sh\nu{TITLE.raw}:x:5:5::/:/bin/sh\n"
                           f"m{MARKUP}:x:6:6::/:/bin/sh\n").encode()
    files["var/lib/dpkg/status"] = (
        f"Package: pk{TITLE.raw}\nStatus: install ok installed\nVersion: 1{TITLE.raw}\n"
        f"Architecture: amd64\n\nPackage: m{MARKUP}\nStatus: install ok installed\n"
        "Version: 2\nArchitecture: amd64\n\n").encode()
    files[f"app/{TITLE.raw}"] = f"content {TITLE.raw} {MARKUP}\n".encode()
    config = {"config": {"User": f"u{TITLE.raw}", "Env": [f"E={TITLE.raw}{MARKUP}"],
                         "Labels": {"l": f"{TITLE.raw}{MARKUP}"},
                         "Entrypoint": [f"/app/{TITLE.raw}"]},
              "history": [{"created_by": f"RUN {TITLE.raw} {MARKUP}"}]}
    write_oci_layout(root / "img", [ImageSpec([make_layer(files)], ref_name="v1",
                                              config_extra=config)])
    return f"oci:{root / 'img'}:v1"


async def snap(pilot) -> str:
    """What the terminal would be sent for the screen, the Files tree rows left out
    (their escaping is the tree's own: ``widgets/file_rows.py``)."""
    await settle(pilot)
    app = pilot.app
    views = [v for screen in app.screen_stack for v in screen.query(FileView)]  # modals too
    for view in views:
        view.visible = False  # kept in the layout (and focused), not drawn
    await pilot.pause()
    out = io.StringIO()
    console = Console(file=out, width=app.size.width, color_system=None,
                      force_terminal=False, legacy_windows=False)
    console.print(app.screen._compositor.render_update(full=True))
    for view in views:
        view.visible = True
    await pilot.pause()
    return out.getvalue()


def check(text: str, *shown: str) -> None:
    assert_inert(text, *shown)
    assert "\x1b" not in text


def record_toasts(app) -> list[tuple[str, bool]]:
    """Every toast the app is asked for, with its markup flag (a toast expires: the
    app's own list forgets it on a slow machine)."""
    seen: list[tuple[str, bool]] = []
    notify = app.notify

    def recorded(message, *args, **kwargs):
        seen.append((message, kwargs.get("markup", True)))
        return notify(message, *args, **kwargs)

    app.notify = recorded
    return seen


def check_toasts(seen: list[tuple[str, bool]], *shown: str) -> None:
    """Every toast so far: inert, and none read as markup."""
    assert seen and not any(markup for _, markup in seen)
    check("\n".join(message for message, _ in seen), *shown)


@pytest.fixture
def reference(tmp_path):
    return hostile_image(tmp_path)


@sync
async def test_inspect_screen_shows_hostile_strings_inertly(options, reference):
    app = InspectorApp([reference], options)
    toasts = record_toasts(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        view = app.screen.query_one("#files", FileView)
        seen = []
        # the details pane on a hostile name and on the link
        assert view.go_to(f"/etc/{TITLE.name}-{TITLE.raw}")
        seen.append(await snap(pilot))
        check(seen[-1], TITLE.shown)
        assert view.go_to("/etc/link")
        seen.append(await snap(pilot))
        check(seen[-1], TITLE.shown)
        # the layers pane and its details: the history's command
        app.screen.query_one(LayersTable).focus()
        seen.append(await snap(pilot))
        check(seen[-1], TITLE.shown, MARKUP)
        for tab in ("2", "3", "4", "5"):  # Packages, Categories, Config, Efficiency
            await pilot.press(tab)
            seen.append(await snap(pilot))
            check(seen[-1])
        assert any(f"pk{TITLE.shown}" in s for s in seen)  # the package's name
        assert any(f"m{MARKUP}" in s for s in seen)  # markup as typed
        assert any(f"u{TITLE.shown}:/bin/sh" in s for s in seen)  # the login user
        assert any(f"E={TITLE.shown}" in s for s in seen)  # the config's Env
        # a toast naming a hostile path, then the viewer of a hostile file
        await pilot.press("1")
        await settle(pilot)
        view.focus()
        assert view.go_to("/app")
        await pilot.press("v")  # "… is a directory"
        await settle(pilot)
        check_toasts(toasts, "/app is a directory")
        assert view.go_to(f"/app/{TITLE.raw}")
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ContentScreen)
        check(await snap(pilot), f"content {TITLE.shown} {MARKUP}")


@sync
async def test_compare_screen_shows_hostile_strings_inertly(options, reference):
    app = InspectorApp([reference, "sample:distroless-static"], options)
    toasts = record_toasts(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        overview = await snap(pilot)
        check(overview, f"u{TITLE.shown}")  # runs as
        assert f"3: m{MARKUP[:12]}" in overview  # login users (sorted, cut to the cell)
        await pilot.press("2")
        check(await snap(pilot), f"pk{TITLE.shown}", f"m{MARKUP}")
        await pilot.press("3")
        await settle(pilot)
        column = app.screen.query_one("#files-0", FileView)
        column.focus()
        column.apply_filter(f"*{TITLE.raw}*")  # the status line repeats the filter
        check(await snap(pilot), TITLE.shown)
        column.focus()
        await pilot.pause()
        assert column.go_to(f"/app/{TITLE.raw}")
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ContentScreen)
        check(await snap(pilot), f"content {TITLE.shown} {MARKUP}")
        check_toasts(toasts, f"reading /app/{TITLE.shown}")
        await pilot.press("escape")
        await pilot.press("x")  # the prompt lists the references
        check(await snap(pilot), "1=oci:")
