"""Random keys cannot take the app down (issue 24 item 1).

Seeded random walks over every key the binding tables bind (plus arrows, Tab, Enter,
Escape, Space and text typed into the filter, search and package-filter inputs) on the
inspect, compare and demo screens at two sizes: after each walk the app is still running
and raised nothing. Left out on purpose: the keys that quit (``q``, Ctrl+C, Ctrl+Q), the
command palette (Ctrl+P: it runs any command, quit and screenshot included) and the fit's
``b`` (it writes an image into the working directory). The add-image prompt is answered
with a bundled sample or Esc, never with typed noise (that would be a registry
reference, i.e. the network).

``INSPECTOR_RANDOM_KEYS=N`` sets the keys per walk (default ``DEFAULT_KEYS``, bounded so
the six walks take about a minute on two cores); ``INSPECTOR_RANDOM_SEED`` another seed.
A failure names the seed and the last keys pressed.
"""

from __future__ import annotations

import os
import random
import unicodedata

import pytest
from textual import events
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key
from textual.widgets import Input
from textual.worker import WorkerCancelled, WorkerFailed

from inspector.tui.app import InspectorApp
from inspector.tui.bindings import APP, COMPARE, FILE_VIEW, INSPECT, SCREEN, TAB_KEYS
from inspector.tui.screens.fit import FitScreen
from inspector.tui.screens.help import HelpScreen
from inspector.tui.screens.prompt import PromptScreen
from inspector.tui.screens.viewer import ContentScreen
from inspector.tui.widgets.fit import FIT_DEMO
from tests.tui.helpers import settle, sync

#: keys per walk unless ``INSPECTOR_RANDOM_KEYS`` says otherwise
DEFAULT_KEYS = 300
SEED = int(os.environ.get("INSPECTOR_RANDOM_SEED", "24"))
#: seconds a key's messages may take to be handled before the walk gives up: a hang guard
#: (pilot's own 30 s failed walks on a machine busy with a parallel run; pytest-timeout
#: bounds the test too), not a measure of speed
KEY_GUARD = 300
SIZES = [(80, 24), (160, 48)]
#: keys that quit the app, run arbitrary commands, or write outside the test (the fit
#: screen's ``b`` builds an image in the working directory, ``W`` an HTML report there);
#: see the module docstring
EXCLUDED = {"q", "ctrl+c", "ctrl+q", "ctrl+p", "b", "W"}
#: keys every screen's widgets take without a binding table of ours (tables, tabs, inputs)
WIDGET_KEYS = ["up", "down", "left", "right", "pageup", "pagedown", "home", "end", "enter",
               "escape", "tab", "shift+tab", "space", "backspace"]
#: what gets typed into an input: filter terms of every form, valid and not
WORDS = ["category:shell", "category:nosuch", "package:bash", "package:libc6", "*.so*",
         "/usr/bin/*", ":added", ":missing", ":only", ":changed", ":removed", "re:^/usr",
         "re:([", "passwd", "bin", "etc", "x", " ", "*", "?", "[", "é"]
#: the add-image prompt's only answers: bundled samples (anything else goes to a registry)
SAMPLES = ["distroless-base", "hello-distroless"]
#: prompts that take typed noise; every other prompt asks for an image (see SAMPLES)
TEXT_PROMPTS = {"filter-prompt", "search-prompt", "remove-prompt"}


def _bound_keys() -> list[str]:
    from inspector.tui.widgets.tabs import ClickToOpen, PackagesPane

    tables = [APP, TAB_KEYS, SCREEN, INSPECT, COMPARE, FILE_VIEW, [FIT_DEMO],
              PromptScreen.BINDINGS, HelpScreen.BINDINGS, ContentScreen.BINDINGS, FitScreen.BINDINGS,
              PackagesPane.BINDINGS, ClickToOpen.BINDINGS]
    keys = {k.strip() for table in tables for b in table for k in b.key.split(",")}
    return sorted((keys | set(WIDGET_KEYS)) - EXCLUDED)


KEYS = _bound_keys()


def key_count() -> int:
    return int(os.environ.get("INSPECTOR_RANDOM_KEYS", DEFAULT_KEYS))


def _typed(word: str) -> list[str]:
    return ["space" if c == " " else c for c in word]


def next_keys(app, rng: random.Random) -> list[str]:
    """The next keys of the walk, by what has focus: an input gets words half the time,
    an image prompt (add, "did you mean") gets a sample name or Esc."""
    screen = app.screen
    if isinstance(screen, PromptScreen) and screen.id not in TEXT_PROMPTS:  # an image prompt
        if rng.random() < 0.5:
            return ["escape"]
        return ["ctrl+u", *_typed(rng.choice(SAMPLES)), "enter"]
    if isinstance(app.focused, Input) and rng.random() < 0.5:
        keys = _typed(rng.choice(WORDS))
        return keys + ([rng.choice(["enter", "escape", "tab"])] if rng.random() < 0.5 else [])
    return [rng.choice(KEYS)]


async def press(pilot, key: str) -> None:
    """``pilot.press`` without its idle waits (``wait_for_idle`` sleeps up to a second per
    key while a worker thread runs): the key event as the pilot builds it, then every
    message it caused handled, so the next key sees the screen and focus it left."""
    app = pilot.app
    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    try:
        char: str | None = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
    except KeyError:
        char = key if len(key) == 1 else None
    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)
    for _ in range(2):  # the app forwards the key: its queue, then the screen's
        await pilot._wait_for_screen(timeout=KEY_GUARD)


async def finish_workers(pilot) -> None:
    """Wait for every worker; one cancelled by a newer one (an exclusive group, such as
    a fit started again) is fine, one that failed is a bug the app hid."""
    for _ in range(4):
        for worker in list(pilot.app.workers):
            try:
                await worker.wait()
            except WorkerCancelled:
                pass
            except WorkerFailed as exc:
                raise AssertionError(f"worker {worker.name} failed: {exc.error!r}") from exc
        await pilot.pause()


async def walk(app, size: tuple[int, int], seed: int, count: int) -> None:
    rng = random.Random(seed)
    pressed: list[str] = []
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        while len(pressed) < count:
            keys = next_keys(app, rng)
            pressed.extend(keys)
            try:
                for key in keys:
                    await press(pilot, key)
            except Exception as exc:
                raise AssertionError(f"seed {seed}: {type(exc).__name__} after keys "
                                     f"{pressed[-40:]}") from exc
            assert app.is_running, f"seed {seed}: the app exited after keys {pressed[-40:]}"
        await finish_workers(pilot)
        assert app.is_running, f"seed {seed}: the app exited after keys {pressed[-40:]}"
    # ``run_test`` re-raises what the app died of; an exception it caught is kept here
    assert app._exception is None, f"seed {seed}: {app._exception!r} after {pressed[-40:]}"


SCREENS = [
    # (name, images, demo)
    ("inspect", ["sample:distroless-static"], False),
    ("compare", ["sample:debian-12-slim", "sample:distroless-static"], False),
    ("demo", [], True),
]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("images,demo", [s[1:] for s in SCREENS], ids=[s[0] for s in SCREENS])
@sync
async def test_random_keys_leave_the_app_alive(options, images, demo, size, tmp_path,
                                               monkeypatch):
    monkeypatch.chdir(tmp_path)  # w (markdown of the screen) writes into the working directory
    seed = SEED * 1000 + size[0] + len(images) * 7 + demo
    await walk(InspectorApp(images, options, demo=demo), size, seed, key_count())
