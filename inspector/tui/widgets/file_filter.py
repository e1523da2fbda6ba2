"""The file view's filter (Ctrl+F, dive's Ctrl+U/Ctrl+R/Ctrl+M toggles) and jump-to search
(/, n, N): actions on ``FileView``'s model, kept apart from its rendering and cursor."""

from __future__ import annotations

from dataclasses import replace

from inspector.index.tree import ADDED, MODIFIED, REMOVED
from inspector.tui.widgets.file_rows import parse_filter
from inspector.tui.widgets.prompt import PromptScreen

#: what Ctrl+U / Ctrl+R / Ctrl+M hide: a row's mark (None: unmodified)
TOGGLED_MARKS = {"unmodified": None, "added": ADDED, "modified": MODIFIED, "removed": REMOVED}


class FilterActions:
    """Mixed into ``FileView`` (which provides ``model``, ``path``, ``set_rows``, ``go_to``,
    ``filter_text``, ``hidden_marks``, ``resolve`` and ``search_term``)."""

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
                flt = replace(flt, marks=frozenset(shown - self.hidden_marks))
            self.model.set_filter(flt)
        except Exception as exc:  # a bad regex or name: say so, keep the old filter
            self.notify(f"filter {text!r}: {exc}", severity="error")
            return False
        self.filter_text = " ".join(text.split())
        if flt.only is not None:
            self.model.expand_all()  # a category's or package's files, not their top dirs
        self.set_rows(self.model, follow=path)
        return True

    def action_filter(self) -> None:
        self.app.push_screen(
            PromptScreen("Filter (glob, re:REGEX, :added :modified :removed, category:NAME, "
                         "package:NAME)", self.filter_text, id="filter-prompt"),
            lambda text: text is not None and self.apply_filter(text))

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
            self.notify(f"no path matches {term!r}", severity="warning")
            return False
        return self.go_to(found)

    def action_search(self) -> None:
        self.app.push_screen(PromptScreen("Search (text or glob; n / N repeat)",
                                          self.search_term, id="search-prompt"),
                             lambda term: term is not None and self.search(term))

    def action_search_next(self, backwards: bool) -> None:
        if self.search_term:
            self.search(self.search_term, backwards)

