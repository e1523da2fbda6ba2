"""The file view's filter (Ctrl+F, dive's Ctrl+U/Ctrl+R/Ctrl+M toggles) and jump-to search
(/, n, N): actions on ``FileView``'s model, kept apart from its rendering and cursor."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from inspector.index.tree import ADDED, MODIFIED, REMOVED
from inspector.tui.state import inspector_app
from inspector.tui.widgets.file_rows import parse_filter
from inspector.visible import visible

if TYPE_CHECKING:  # the mixin is a Widget to the type checker, a plain class at run time
    from textual.widget import Widget as _Host

    from inspector.index.tree import TreeRows
    from inspector.tui.widgets.file_rows import Resolver
else:
    _Host = object

#: what Ctrl+U / Ctrl+R / Ctrl+M hide: a row's mark (None: unmodified)
TOGGLED_MARKS = {"unmodified": None, "added": ADDED, "modified": MODIFIED, "removed": REMOVED}


class FilterActions(_Host):
    """Mixed into ``FileView``, which provides the state and methods declared here."""

    model: TreeRows | None
    filter_text: str
    hidden_marks: set[str | None]
    resolve: Resolver | None
    search_term: str

    if TYPE_CHECKING:
        @property
        def path(self) -> str | None: ...
        def set_rows(self, rows: TreeRows | None, *, follow: str | None = None) -> None: ...
        def go_to(self, path: str) -> bool: ...
        def _changed(self) -> None: ...

    def apply_filter(self, text: str) -> bool:
        """Filter by ``text`` (the Ctrl+F language) plus the hidden marks; False (and a
        message, the old filter kept) when it does not parse."""
        if self.model is None:
            return False
        path = self.path
        try:
            flt = parse_filter(text, self.resolve)
            if self.hidden_marks:
                shown = flt.marks if flt.marks is not None else frozenset(TOGGLED_MARKS.values())
                flt = replace(flt, marks=frozenset(shown - self.hidden_marks))  # type: ignore[arg-type]  # None: unmodified
            self.model.set_filter(flt)
        except Exception as exc:  # a bad regex or name: say so, keep the old filter
            # what the user typed (and the regex error quoting it): text, never markup
            self.notify(f"filter '{visible(text)}': {visible(str(exc))}", severity="error",
                        markup=False)
            return False
        self.filter_text = " ".join(text.split())
        if flt.only is not None:
            self.model.expand_all()  # a category's or package's files, not their top dirs
        self.set_rows(self.model, follow=path)
        return True

    def action_filter(self) -> None:
        def done(text: str | None) -> None:
            if text is not None:
                self.apply_filter(text)

        inspector_app(self).ask(
            "Filter (glob, re:REGEX, :added :modified :removed, category:NAME, package:NAME)",
            self.filter_text, id="filter-prompt", then=done)

    def action_toggle_mark(self, name: str) -> None:
        """dive's Ctrl+U/Ctrl+R/Ctrl+M: hide or show unmodified/removed/modified rows."""
        mark = TOGGLED_MARKS[name]
        self.hidden_marks ^= {mark}
        if self.apply_filter(self.filter_text):
            state = "hidden" if mark in self.hidden_marks else "shown"
            self.notify(f"{name} entries {state}", timeout=2)

    def search(self, term: str, backwards: bool = False) -> bool:
        if self.model is None or not term:
            return False
        if term != self.search_term:
            self.search_term = term
            self._changed()  # rows are drawn with the new matches highlighted
            self.refresh()
        found = self.model.search(term, self.path, backwards)
        if found is None:
            self.notify(f"no path matches '{visible(term)}'", severity="warning", markup=False)
            return False
        return self.go_to(found)

    def action_search(self) -> None:
        def done(term: str | None) -> None:
            if term is not None:
                self.search(term)

        inspector_app(self).ask("Search (text or glob; n / N repeat)", self.search_term,
                                id="search-prompt", then=done)

    def action_search_next(self, backwards: bool) -> None:
        if self.search_term:
            self.search(self.search_term, backwards)

