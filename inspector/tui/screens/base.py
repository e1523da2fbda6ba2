"""What both screens share: loading images in thread workers and reporting the outcome."""

from __future__ import annotations

import threading

from textual import events, on
from textual.binding import ActiveBinding
from textual.containers import ScrollableContainer
from textual.dom import DOMNode
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.widget import Widget
from textual.widgets import Footer, Input, Static, TabbedContent, TabPane, Tabs

from inspector.analysis import Analysis
from inspector.tui.bindings import FOOTER_FIRST
from inspector.tui.loader import fresh_options, load_blocking
from inspector.tui.messages import AnalysisFailed, AnalysisReady, LoadProgress
from inspector.tui.state import inspector_app
from inspector.tui.widgets.file_view import FileView
from inspector.tui.widgets.loading import LoadingPanel
from inspector.visible import visible


def tab_bars_unfocusable(node: DOMNode) -> None:
    """Tab bars take no focus, so Tab goes from pane to pane (the tree to the layers in
    one press); tabs switch with 1, 2, 3…, a click or the palette."""
    for tabs in node.query(Tabs):
        tabs.can_focus = False


def _is_container(widget: Widget) -> bool:
    """A scroll container around other widgets (not a table: DataTable is a ScrollView)."""
    return isinstance(widget, ScrollableContainer) and not isinstance(widget, ScrollView)


def focus_in(pane: TabPane, retries: int = 3) -> None:
    """Focus the first table or tree of ``pane`` (a scroll container only if there is
    nothing else) unless one already has focus; ``Lazy`` content mounts a refresh later,
    so look again then. A pane the user has left meanwhile (``3 1`` typed ahead: the
    Categories pane mounts after Files is shown) is left alone: focusing into it showed it
    again, whose activation moved the focus, and the two tabs took turns forever at 100 %
    CPU."""
    if not pane.is_attached:
        return
    tabbed = next((a for a in pane.ancestors if isinstance(a, TabbedContent)), None)
    if tabbed is not None and tabbed.active != pane.id:
        return
    focused = pane.screen.focused
    if focused is not None and pane in focused.ancestors and not _is_container(focused):
        return
    # the file tree first, then a table, a text input last: number keys still switch tabs
    # (/ focuses the input)
    best = sorted((w for w in pane.query("*") if w.focusable and not _is_container(w)),
                  key=lambda w: (not isinstance(w, FileView), isinstance(w, Input)))
    if best:
        # at once, not ``focus()``'s deferred call: Textual moves the focus off a widget
        # that is hidden to a sibling, and a pane that gets the focus shows itself again
        pane.screen.set_focus(best[0])
    elif retries:
        pane.call_after_refresh(focus_in, pane, retries - 1)


#: below this many cells (width, height) the screens say the terminal is too small
MIN_SIZE = (60, 16)


def too_small(width: int, height: int) -> str:
    """The hint for a terminal under ``MIN_SIZE`` ("" when it is big enough)."""
    if width >= MIN_SIZE[0] and height >= MIN_SIZE[1]:
        return ""
    return (f"terminal too small ({width}x{height}): make it at least "
            f"{MIN_SIZE[0]}x{MIN_SIZE[1]} (80x24 shows every pane)")


class KeysFooter(Footer):
    """Textual's footer, drawn while the app is blurred too: a browser page (``inspector
    serve``) blurs the app before its first key, and the stock footer then skipped every
    update, so the hints stayed blank until a key was pressed.

    It recomposes in its own message loop (``refresh(recompose=True)``), not through
    ``call_after_refresh`` as the stock footer does: that callback runs on whatever screen
    is on top when it is scheduled, so a prompt opened by the same key (``/``, Ctrl+F from
    another pane) ran this screen's footer rebuild inside its own loop and stopped handling
    messages (keys, Esc) until the rebuild, which could wait on that very loop, was done: the
    prompt froze, seen under load as a 30 s ``WaitForScreenTimeout`` in the random-key walk."""

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if self.is_attached and screen is self.screen:
            self.refresh(recompose=True)


class TooSmall(Static):
    """One line over the screen while the terminal is under ``MIN_SIZE``."""

    DEFAULT_CSS = "TooSmall { height: auto; background: $error; color: $text; }"

    def on_mount(self) -> None:
        self.follow(self.app.size.width, self.app.size.height)

    def follow(self, width: int, height: int) -> None:
        hint = too_small(width, height)
        self.update(hint)
        self.display = bool(hint)


class LoadingScreen(Screen):
    """A screen that loads images: one ``load`` worker per image (group ``load``), per-layer
    progress into its ``LoadingPanel``, Esc cancels every load in flight. Analyses are kept
    on the app (``app.analyses``) so switching screens does not reload."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: dict[str, threading.Event] = {}

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """Textual's, with ``FOOTER_FIRST`` (help, quit) first: the footer shows them in
        this order, and a narrow terminal cuts its end."""
        bindings = super().active_bindings
        first = {k: b for k, b in bindings.items() if b.binding.id in FOOTER_FIRST}
        return {**first, **{k: b for k, b in bindings.items() if k not in first}}

    def on_resize(self, event: events.Resize) -> None:
        for hint in self.query(TooSmall):
            hint.follow(event.size.width, event.size.height)

    def analysis_for(self, reference: str) -> Analysis | None:
        return inspector_app(self).analyses.get(reference)

    def start_load(self, reference: str) -> None:
        if reference in self.pending or self.analysis_for(reference) is not None:
            return
        options = fresh_options(inspector_app(self).options)
        self.pending[reference] = options.cancel
        memo = inspector_app(self).memo
        self.run_worker(lambda: load_blocking(reference, options, memo, self.post_message),
                        thread=True, group="load", name=f"load {reference}",
                        exit_on_error=False, description=f"Loading {reference}")

    def action_tab(self, n: int) -> None:
        """Show the ``n``-th tab (1-based) of the screen's tabs, if there is one."""
        for tabbed in self.query(TabbedContent).results():
            panes = list(tabbed.query(TabPane))
            pane_id = panes[n - 1].id if 1 <= n <= len(panes) else None
            if pane_id:
                tabbed.active = pane_id
            return

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        # something in the new tab takes the keys (the demo's arrows did nothing at first)
        focused = self.focused
        if focused is not None and event.pane not in focused.ancestors:
            self.set_focus(None)
        focus_in(event.pane)

    async def action_files(self, action: str) -> None:
        """A file-tree key pressed in another pane: show the tree, focus it, act there."""
        views = list(self.query(FileView).results())
        if not views:
            self.notify("the file tree is not loaded yet", severity="warning", timeout=2)
            return
        view = views[0]
        for pane in view.ancestors:
            if isinstance(pane, TabPane) and pane.id:
                for tabbed in self.query(TabbedContent).results():
                    tabbed.active = pane.id
                break
        self.set_focus(view)
        await view.run_action(action)

    def markdown(self) -> tuple[list[str], str, str] | None:
        """(labels, what, markdown) of the tab on screen, None while loading (override)."""
        return None

    def action_write_markdown(self) -> None:
        """``w``: the tab on screen as markdown, saved where it can be found."""
        from inspector.tui.export import file_name

        made = self.markdown()
        if made is None:
            self.notify("nothing to save yet", severity="warning", timeout=2)
            return
        labels, what, content = made
        inspector_app(self).save_text(file_name(labels, what, ".md"), content,
                                      f"{what} (markdown)")

    def html(self) -> tuple[list[str], str] | None:
        """(labels, HTML report) of the images on screen, None while loading (override)."""
        return None

    def action_write_html(self) -> None:
        """``W``: the report as one HTML page (``inspector.report.html``)."""
        from inspector.tui.export import file_name

        made = self.html()
        if made is None:
            self.notify("nothing to save yet", severity="warning", timeout=2)
            return
        labels, content = made
        inspector_app(self).save_text(file_name(labels, "report", ".html"), content,
                                      "report (HTML)", mime_type="text/html")

    def action_cancel_load(self) -> None:
        if not self.pending:
            return
        for event in self.pending.values():
            event.set()
        self.notify("Cancelling…", timeout=2)

    @on(LoadProgress)
    def _progress(self, message: LoadProgress) -> None:
        for panel in self.query(LoadingPanel):
            panel.set_progress(message.reference, message.stage, message.layers)

    @on(AnalysisReady)
    def _ready(self, message: AnalysisReady) -> None:
        self.pending.pop(message.reference, None)
        inspector_app(self).analyses[message.reference] = message.analysis
        self.loaded(message.reference)

    @on(AnalysisFailed)
    def _failed(self, message: AnalysisFailed) -> None:
        self.pending.pop(message.reference, None)
        for panel in self.query(LoadingPanel):
            panel.set_error(message.reference, message.error)
        self.notify(visible(message.error), title="Cancelled" if message.cancelled else "Error",
                    markup=False,
                    severity="warning" if message.cancelled else "error", timeout=10)
        self.failed(message.reference)

    def loaded(self, reference: str) -> None:
        """An image is ready (override)."""

    def failed(self, reference: str) -> None:
        """An image failed to load or was cancelled (override)."""
