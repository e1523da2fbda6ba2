"""Command palette entries for the main actions (Ctrl+P)."""

from __future__ import annotations

from textual.command import DiscoveryHit, Hit, Hits, Provider

#: (title, help, action run on the screen, or on the focused widget when prefixed "focused.")
COMMANDS = [
    ("Add an image to the comparison", "prompt for a reference", "add_image"),
    ("Remove an image from the comparison", "compare screen", "remove_image"),
    ("Filter the file tree", "glob, re:REGEX, :added :modified :removed", "focused.filter"),
    ("Search the file tree", "jump to the next matching path", "focused.search"),
    ("View the highlighted file", "v: in every image, side by side, in compare", "focused.view"),
    ("Sort the file tree by name / size", "toggle", "focused.sort"),
    ("Hide/show modified entries", "dive's Ctrl+M (Enter in terminals)",
     "focused.toggle_mark('modified')"),
    ("Collapse all directories", "file tree", "focused.collapse_all"),
    ("Expand all directories", "file tree", "focused.expand_all"),
    ("Show only this layer's changes", "inspect screen (Ctrl+L)", "layer_changes(True)"),
    ("Show the whole filesystem", "inspect screen (Ctrl+A)", "layer_changes(False)"),
    ("Save the tab on screen as markdown", "w: to the working directory", "write_markdown"),
    ("Save the report as HTML", "W: one page to hand out", "write_html"),
    ("Cancel loading", "Esc", "cancel_load"),
    ("Help: every key", "?", "app.help"),
    ("Quit", "q or Ctrl+C", "app.quit"),
]


class InspectorCommands(Provider):
    async def _run(self, action: str) -> None:
        screen = self.screen
        if action.startswith("focused."):
            widget = screen.focused
            name = action.removeprefix("focused.")
            if widget is not None and hasattr(widget, f"action_{name}"):
                await widget.run_action(name)  # the widget is the action's namespace
            else:
                self.app.notify("focus the file tree first", severity="warning")
        elif action.startswith("app."):
            await self.app.run_action(action)
        else:
            await screen.run_action(action)

    def commands(self) -> list[tuple[str, str, str]]:
        """The fixed commands plus "Go to tab N: NAME" for the screen's tabs."""
        from textual.widgets import TabbedContent, TabPane

        tabs = []
        for tabbed in self.screen.query(TabbedContent).results():
            for n, pane in enumerate(tabbed.query(TabPane), start=1):
                label = tabbed.get_tab(pane).label.plain if pane.id else str(n)
                tabs.append((f"Go to tab {n}: {label}", f"key {n}", f"tab({n})"))
            break
        return tabs + COMMANDS

    async def discover(self) -> Hits:
        for title, help_text, action in self.commands():
            yield DiscoveryHit(title, lambda a=action: self._run(a), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in self.commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), lambda a=action: self._run(a),
                          help=help_text)
