"""Random keys cannot take the app down (issue 24 item 1).

Seeded random walks over every key the binding tables bind (plus arrows, Tab, Enter,
Escape, Space and text typed into the filter, search and package-filter inputs) on the
inspect, compare and demo screens at two sizes: after each walk the app is still running
and raised nothing. Left out on purpose: the keys that quit (``q``, Ctrl+C, Ctrl+Q), the
command palette (Ctrl+P: it runs any command, quit and screenshot included) and the fit's
``b`` (it writes an image into the working directory). The add-image prompt is answered
with a bundled sample or Esc, never with typed noise (that would be a registry
reference, i.e. the network).

A walk is the same walk on any machine, loaded or not: each step waits until the app has
handled every message its keys caused (``drain``: the app's own queues, no sleeps and no
wall-clock idleness), and thread workers (loads, tree builds, file reads, the fit) are
held for a seeded number of steps, then run alone (``Workers``): the keys that arrive
while one is in flight are chosen by the seed, not by the scheduler. Some steps send 2–4
keys before the app handles any (type-ahead, as a slow laptop queues them).

``INSPECTOR_RANDOM_KEYS=N`` sets the keys per walk (default ``DEFAULT_KEYS``, bounded so
the six walks take about a minute on two cores); ``INSPECTOR_RANDOM_SEED`` another seed.
A failure prints the seed, every step of the walk (``<...>`` where a held worker ran),
the app's own traceback, and for a handler that never returns, where it is stuck.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import os
import random
import threading
import time
import traceback
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from textual import events
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.widgets import Input, TabbedContent
from textual.worker import Worker, WorkerCancelled, WorkerFailed

from inspector.tui.app import InspectorApp
from inspector.tui.bindings import APP, COMPARE, FILE_VIEW, INSPECT, SCREEN, TAB_KEYS
from inspector.tui.screens.fit import FitScreen
from inspector.tui.screens.help import HelpScreen
from inspector.tui.screens.prompt import PromptScreen
from inspector.tui.screens.viewer import ContentScreen
from inspector.tui.widgets.fit import FIT_DEMO
from tests.tui.helpers import sync

#: keys per walk unless ``INSPECTOR_RANDOM_KEYS`` says otherwise
DEFAULT_KEYS = 300
SEED = int(os.environ.get("INSPECTOR_RANDOM_SEED", "24"))
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
#: what a burst is made of (``a`` opens the image prompt: typed noise there is a registry
#: reference, i.e. the network)
BURST_KEYS = [k for k in KEYS if k != "a"]
#: the share of steps that are a burst of 2–4 keys sent before the app handles any
BURST = 0.1
#: how many steps of the walk a thread worker is held for (seeded, see ``Workers``): 0 runs
#: it right after the step that started it; the rest let keys arrive while it is in flight
HOLDS = [0, 0, 0, 1, 1, 2, 3, 5, 8, 20]
#: rounds of message handling after which the app counts as never settling (a loop of
#: messages); how often a removed widget is looked for while waiting on a round (not a
#: time limit); how long a handler or a released worker may run before the walk calls it
#: hung (a bound on a failure, never a wait for success)
MAX_ROUNDS = 1000
POLL = 0.05
HANG = 300
#: seconds each thread worker sleeps first in the slow walk (a loaded machine)
SLOW = 0.3


def key_count() -> int:
    return int(os.environ.get("INSPECTOR_RANDOM_KEYS", DEFAULT_KEYS))


def _typed(word: str) -> list[str]:
    return ["space" if c == " " else c for c in word]


def next_keys(app, rng: random.Random) -> list[str]:
    """The next keys of the walk, by what has focus: an input gets words half the time,
    an image prompt (add, "did you mean") gets a sample name or Esc; elsewhere one key, or
    now and then a burst of several typed ahead (never ``a``: its image prompt would take
    the rest as a registry reference)."""
    screen = app.screen
    if isinstance(screen, PromptScreen) and screen.id not in TEXT_PROMPTS:  # an image prompt
        if rng.random() < 0.5:
            return ["escape"]
        return ["ctrl+u", *_typed(rng.choice(SAMPLES)), "enter"]
    if isinstance(app.focused, Input) and rng.random() < 0.5:
        keys = _typed(rng.choice(WORDS))
        return keys + ([rng.choice(["enter", "escape", "tab"])] if rng.random() < 0.5 else [])
    if rng.random() < BURST:
        return [rng.choice(BURST_KEYS) for _ in range(rng.randint(2, 4))]
    return [rng.choice(KEYS)]


def _key_event(key: str) -> events.Key:
    """The key event ``pilot.press`` builds for ``key``."""
    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    try:
        char: str | None = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


def _pumps(app) -> list[MessagePump]:
    return [app, *(node for screen in app.screen_stack
                   for node in screen.walk_children(with_self=True))]


def _busy(app, pump: MessagePump) -> bool:
    """A message queued, a callback waiting, a screen's refresh callbacks pending, or the
    current screen's layout (a screen below lays out only when it is on top again; a
    handler under way with an empty queue shows only to a round)."""
    return bool(not pump._message_queue.empty() or pump._next_callbacks
                or isinstance(pump, Screen) and (
                    pump._callbacks or pump is app.screen and (pump._layout_required
                                                               or pump._recompose_required)))


def _live(app, pump: MessagePump) -> bool:
    """``pump`` will still handle what is queued to it: started, not closing, in the app."""
    return (pump._task is not None and not (pump._closed or pump._closing)
            and (pump is app or pump.is_attached))


async def _round(app, pumps: list[MessagePump]) -> None:
    """One ``call_later`` to each of ``pumps``, awaited: each has then handled what was
    queued to it before. A pump removed meanwhile (a dismissed prompt, a footer key
    recomposed away) never runs it and is not waited for: ``pilot._wait_for_screen`` waits
    30 s for it and raises ``WaitForScreenTimeout``. ``POLL`` is how often that is looked
    at, not a time limit."""
    loop = asyncio.get_running_loop()
    waits = []
    for pump in pumps:
        done = loop.create_future()
        if pump.call_later(done.set_result, None):
            waits.append((pump, done))
    app.screen._on_timer_update()  # the screen's refresh (its call_after_refresh callbacks)
    for _ in range(int(HANG / POLL)):
        if not waits or app._exception is not None:
            return
        await asyncio.wait([done for _, done in waits], timeout=POLL)
        waits = [(p, d) for p, d in waits if not d.done() and _live(app, p)]
    stuck = waits[0][0]
    stack = io.StringIO()
    stuck._task.print_stack(file=stack)
    raise AssertionError(f"{stuck!r} has handled nothing for {HANG} s (a handler that never "
                         f"returns: the app would freeze), awaiting in:\n{stack.getvalue()}")


async def drain(pilot) -> None:
    """Every message the last keys (or a worker) caused, handled: rounds of ``_round``
    until no pump has anything queued. The next key then sees the screen and focus the
    last one left, whatever the machine's load."""
    app = pilot.app
    busy: list[MessagePump] = []
    full = False
    for _ in range(MAX_ROUNDS):
        # the app, the screen and every pump with work queued; once none has any, a round
        # of every pump (a handler may be under way with nothing queued): settled if that
        # leaves nothing queued either
        await _round(app, _pumps(app) if full else [app, app.screen, *busy])
        if app._exception is not None or not app.is_running:
            return
        await app.animator.wait_until_complete()
        busy = [pump for pump in _pumps(app) if _busy(app, pump)]
        if not busy and full:
            return
        full = not busy
    raise AssertionError(f"the app never settled ({MAX_ROUNDS} rounds of messages); "
                         f"still busy: {busy[:5]}")


async def press(pilot, *keys: str) -> None:
    """Send ``keys`` as a terminal would (all of them before the app handles any: type-ahead
    when there are several), then wait until the app has handled every message they
    caused. Unlike ``pilot.press`` nothing waits on wall-clock idleness (its
    ``wait_for_idle`` sleeps up to a second per key while a worker thread runs)."""
    app = pilot.app
    for key in keys:
        event = _key_event(key)
        event.set_sender(app)
        app.post_message(event)  # what the driver does, without its hop through the loop
    await drain(pilot)


@dataclass
class Held:
    """A thread worker held back by ``Workers``: ``steps`` more steps of the walk before
    it runs; ``finished`` is set by the work itself on its thread."""

    worker: Worker
    steps: int
    run: Callable[[], object]
    go: asyncio.Event = field(default_factory=asyncio.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    cancelled: bool = False


class Workers:
    """Every thread worker of the app is held until a seeded number of steps of the walk
    have passed (``HOLDS``), then runs alone while the walk waits for its end and for the
    messages it posted to be handled. On a loaded machine a worker ends after however many
    keys the scheduler allows; here the seed decides, so a walk is the same walk on any
    machine, and keys that arrive while a load, a tree build, a file read or a fit is in
    flight are tried on purpose rather than by chance. A worker Textual cancelled while it
    was held still runs when released: Textual cannot stop a thread, whose messages still
    arrive."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.held: list[Held] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original = Worker._run_threaded
        workers = self

        async def held_run(worker: Worker):
            work = worker._work
            assert callable(work) and not inspect.iscoroutinefunction(getattr(work, "func", work))
            entry = Held(worker, workers.rng.choice(HOLDS), work)

            def run():
                try:
                    return work()
                finally:
                    entry.finished.set()

            entry.run = run
            worker._work = run
            workers.held.append(entry)
            try:
                await entry.go.wait()
            except asyncio.CancelledError:
                entry.cancelled = True
                if entry.go.is_set():  # released as it was cancelled: its thread runs anyway
                    asyncio.get_running_loop().run_in_executor(None, _quietly, run)
                raise
            return await original(worker)

        monkeypatch.setattr(Worker, "_run_threaded", held_run)

    async def release(self, pilot, entry: Held, trail: list[str]) -> None:
        self.held.remove(entry)
        trail.append(f"<{entry.worker.name or entry.worker.group} ran"
                     f"{' (cancelled)' if entry.cancelled else ''}>")
        entry.go.set()
        if entry.cancelled:
            asyncio.get_running_loop().run_in_executor(None, _quietly, entry.run)
        if not await asyncio.to_thread(entry.finished.wait, HANG):
            raise AssertionError(f"worker {entry.worker.name} still running after {HANG} s")
        await drain(pilot)

    async def step(self, pilot, trail: list[str]) -> None:
        """One step of the walk passed: run the workers whose hold is over, in order."""
        for entry in self.held:
            entry.steps -= 1
        while due := [e for e in self.held if e.steps < 0]:
            await self.release(pilot, due[0], trail)

    async def finish(self, pilot, trail: list[str]) -> None:
        """Run every worker still held (and those they start), then check none failed."""
        while self.held:
            await self.release(pilot, self.held[0], trail)
        for worker in list(pilot.app.workers):
            try:
                await worker.wait()
            except WorkerCancelled:  # a newer one replaced it (exclusive group): fine
                pass
            except WorkerFailed as exc:  # a bug the app hid
                raise AssertionError(f"worker {worker.name} failed: {exc.error!r}") from exc


def _quietly(run: Callable[[], object]) -> None:
    """A cancelled worker's thread: what it raises reaches nobody, as in Textual."""
    try:
        run()
    except Exception:
        pass


def _failure(seed: int, trail: list[str], app, exc: BaseException | None = None) -> str:
    """Everything needed to replay a failure from a CI log: the seed, every key pressed
    (``<...>``: where a held worker ran), and what the app died of."""
    lines = [f"seed {seed}: {type(exc).__name__ + ': ' + str(exc) if exc else 'failed'}",
             f"screen {type(app.screen).__name__ if app.is_running else '(exited)'}; "
             f"{len(trail)} steps:", " ".join(trail)]
    if app._exception is not None:
        lines += ["the app's exception:",
                  "".join(traceback.format_exception(app._exception)).rstrip()]
    return "\n".join(lines)


async def walk(app, size: tuple[int, int], seed: int, count: int, workers: Workers) -> list[str]:
    """``count`` keys from ``seed``; the steps taken (keys, and where held workers ran)."""
    rng = random.Random(seed)
    trail: list[str] = []
    pressed = 0
    async with app.run_test(size=size) as pilot:
        try:
            await workers.finish(pilot, trail)  # the screen loaded, as a user first sees it
            trail.clear()
            while pressed < count:
                keys = next_keys(app, rng)
                pressed += len(keys)
                trail.append(keys[0] if len(keys) == 1 else "[" + " ".join(keys) + "]")
                await press(pilot, *keys)  # several: typed ahead, sent before any is handled
                assert app._exception is None and app.is_running, "the app exited"
                await workers.step(pilot, trail)
                assert app._exception is None and app.is_running, "the app exited"
            await workers.finish(pilot, trail)
            assert app._exception is None and app.is_running, "the app exited"
        except Exception as exc:
            raise AssertionError(_failure(seed, trail, app, exc)) from exc
    # ``run_test`` re-raises what the app died of; an exception it caught is kept here
    assert app._exception is None, _failure(seed, trail, app)
    return trail


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
    workers = Workers(seed)
    workers.install(monkeypatch)
    await walk(InspectorApp(images, options, demo=demo), size, seed, key_count(), workers)


@sync
async def test_a_walk_does_not_depend_on_how_fast_workers_run(options, tmp_path, monkeypatch):
    """The same seed walks the same keys when every thread worker is slowed down (a loaded
    machine, as when this test once failed in a combined run): the walk waits for the
    app's own messages and releases workers by the seed, never by the clock."""
    monkeypatch.chdir(tmp_path)
    images, seed, count = ["sample:debian-12-slim", "sample:distroless-static"], 7, 60

    async def one_walk(slow: bool) -> list[str]:
        with pytest.MonkeyPatch.context() as patch:
            if slow:
                real = Worker._run_threaded

                async def slowed(worker):
                    work = worker._work
                    worker._work = lambda: (time.sleep(SLOW), work())[1]
                    return await real(worker)

                patch.setattr(Worker, "_run_threaded", slowed)
            workers = Workers(seed)
            workers.install(patch)
            return await walk(InspectorApp(images, options), (80, 24), seed, count, workers)

    fast = await one_walk(slow=False)
    assert any(step.startswith("<") for step in fast) and len(fast) > count // 2
    assert await one_walk(slow=True) == fast


@sync
async def test_the_footer_rebuilds_in_its_own_loop_under_a_prompt(options, monkeypatch):
    """``/`` from the layers pane moves the focus (the footer's keys change) and opens the
    search prompt in one key. The footer of the screen below must rebuild in its own
    message loop: run as a refresh callback it ran inside the prompt's loop, which stopped
    handling keys until the rebuild was done (the walk's 30 s ``WaitForScreenTimeout``)."""
    from inspector.tui.screens.base import KeysFooter
    from inspector.tui.widgets.panes import LayersTable

    loops: list[tuple[str, str]] = []  # (the footer's own loop, the loop it rebuilt in)
    real = KeysFooter.recompose

    async def recompose(self) -> None:
        task = asyncio.current_task()
        loops.append((self._task.get_name() if self._task else "", task.get_name() if task else ""))
        await real(self)

    monkeypatch.setattr(KeysFooter, "recompose", recompose)
    workers = Workers(0)
    workers.install(monkeypatch)
    app = InspectorApp(["sample:distroless-static"], options)
    async with app.run_test(size=(80, 24)) as pilot:
        await workers.finish(pilot, [])
        app.screen.query_one(LayersTable).focus()
        await drain(pilot)
        loops.clear()
        await press(pilot, "slash")
        assert isinstance(app.screen, PromptScreen)
        await press(pilot, "x", "escape")
        assert not isinstance(app.screen, PromptScreen)
    assert loops and all(own == ran for own, ran in loops), loops


@sync
async def test_tabs_typed_ahead_leave_the_app_idle(options, monkeypatch):
    """``3 1`` typed ahead on inspect: the Categories pane (``Lazy``) mounts after Files is
    shown again. Its late focus must not pull the user back: it did, Files' activation
    moved the focus again, and the two tabs took turns forever at 100 % CPU (``drain``
    then never settles). The walk found it (seed 6, ``x [3 1 G]``)."""
    from inspector.tui.widgets.file_view import FileView

    workers = Workers(0)
    workers.install(monkeypatch)
    app = InspectorApp(["sample:distroless-static"], options)
    async with app.run_test(size=(80, 24)) as pilot:
        await workers.finish(pilot, [])
        await press(pilot, "3", "1")
        assert app.screen.query_one("#tabs", TabbedContent).active == "tab-files"
        assert isinstance(app.focused, FileView)
