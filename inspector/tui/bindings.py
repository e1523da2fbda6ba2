"""Every key binding, as data: an id, the keys, the action and a description. The footer,
the help screen (``?``) and the tests read these tables; keys follow dive where its users
expect them (Tab switches pane, Ctrl+F filter, Space collapse, Ctrl+Space collapse all,
Ctrl+L/Ctrl+A layer changes, Ctrl+U/Ctrl+R hide unmodified/removed, Ctrl+O sort, Ctrl+B
attributes, q and Ctrl+C quit) and Textual's conventions elsewhere. dive's Ctrl+M is not
bound: terminals send Enter for it (the palette and ``:modified`` hide modified entries)."""

from __future__ import annotations

from textual.binding import Binding

APP = [
    Binding("q", "quit", "Quit", id="app.quit"),
    Binding("question_mark", "help", "Help", id="app.help", key_display="?"),
    Binding("tab", "focus_next", "Next pane", id="app.next_pane", show=False),
    Binding("shift+tab", "focus_previous", "Previous pane", id="app.previous_pane", show=False),
]

#: the app's own Ctrl+C (modal screens); the screens bind it too, so the help lists it once
INTERRUPT = Binding("ctrl+c", "interrupt", "Quit (exit status 130)", id="app.interrupt",
                    show=False)

#: shown first in the footer, so a narrow terminal cuts the screen's keys, not these
FOOTER_FIRST = ("app.help", "app.quit")

#: number keys → tabs (the tab bar itself takes no focus: Tab moves between panes); the
#: help shows them as one row
TAB_KEYS = [Binding(str(n), f"tab({n})", f"Tab {n}", id=f"screen.tab{n}", show=False)
            for n in range(1, 10)]

#: every image screen's keys (inspect and compare)
SCREEN = [
    # the screen's own ctrl+c copies a selection; dive users expect it to quit, with the
    # status of an interrupt (130), as a shell reports it
    Binding("ctrl+c", "app.interrupt", "Quit (exit status 130)", id="screen.quit", show=False),
    Binding("escape", "cancel_load", "Cancel loading", id="screen.cancel", show=False),
    # the tree's keys work from any pane: they move to the tree first (typed text must not
    # fall through as commands when another pane has the focus)
    Binding("ctrl+f", "files('filter')", "Filter the file tree", id="screen.filter", show=False),
    Binding("slash", "files('search')", "Search the file tree", id="screen.search", show=False,
            key_display="/"),
    Binding("w", "write_markdown", "Save the tab as markdown", id="screen.write", show=False),
    Binding("W", "write_html", "Save the report as HTML", id="screen.write_html", show=False),
]

#: the inspect screen's own keys (``a`` opens a comparison with the image asked for)
INSPECT = [
    Binding("ctrl+l", "layer_changes(True)", "This layer's changes (inspect)",
            id="inspect.layer_only", show=False),
    Binding("ctrl+a", "layer_changes(False)", "Whole filesystem (inspect)",
            id="inspect.aggregated", show=False),
    Binding("a", "add_image", "Add image", id="inspect.add"),
]

#: the compare screen's own keys; Ctrl+L / Ctrl+A say they are inspect's
COMPARE = [
    Binding("ctrl+l", "layer_changes(True)", "Layer changes: inspect's key (says so)",
            id="compare.layer_only", show=False),
    Binding("ctrl+a", "layer_changes(False)", "Whole filesystem: inspect's key (says so)",
            id="compare.aggregated", show=False),
    Binding("a", "add_image", "Add image", id="compare.add"),
    Binding("x", "remove_image", "Remove image", id="compare.remove", show=False),
    Binding("i", "toggle_intro", "Show/hide the intro", id="compare.intro", show=False),
]

#: compare's Packages tab, while it lists only the packages with findings (Enter on the
#: Overview's vulnerabilities row): the way back, shown in the footer
PACKAGES_DIFF = [Binding("escape", "all_packages", "Every package", id="compare.all_packages")]

FILE_VIEW = [
    Binding("up,k", "cursor(-1)", "Up", id="files.up", show=False),
    Binding("down,j", "cursor(1)", "Down", id="files.down", show=False),
    Binding("pageup,u", "page(-1)", "Page up", id="files.page_up", show=False),
    Binding("pagedown,d", "page(1)", "Page down", id="files.page_down", show=False),
    Binding("home,g", "edge(-1)", "First", id="files.first", show=False),
    Binding("end,G", "edge(1)", "Last", id="files.last", show=False),
    Binding("right,l", "open", "Expand", id="files.expand", show=False),
    Binding("left,h", "close", "Collapse / parent", id="files.collapse", show=False),
    Binding("space,enter", "toggle_node", "Expand/collapse", id="files.toggle", key_display="space"),
    Binding("c,ctrl+space,ctrl+@", "collapse_all", "Collapse all", id="files.collapse_all",
            show=False, key_display="c / ctrl+space"),
    Binding("e", "expand_all", "Expand all", id="files.expand_all", show=False),
    Binding("s,ctrl+o", "sort", "Sort", id="files.sort"),
    Binding("ctrl+f", "filter", "Filter", id="files.filter"),
    Binding("slash", "search", "Search", id="files.search", key_display="/"),
    Binding("n", "search_next(False)", "Next match", id="files.next", show=False),
    Binding("N", "search_next(True)", "Previous match", id="files.previous", show=False),
    Binding("v", "view", "View file", id="files.view"),
    Binding("ctrl+b", "attributes", "Attributes", id="files.attributes", show=False),
    Binding("ctrl+u", "toggle_mark('unmodified')", "Hide/show unmodified",
            id="files.toggle_unmodified", show=False),
    Binding("ctrl+r", "toggle_mark('removed')", "Hide/show removed", id="files.toggle_removed",
            show=False),
]

def _by_id(*ids: str) -> list[Binding]:
    known = {b.id: b for b in [*SCREEN, *INSPECT, *COMPARE]}
    return [known[i] for i in ids]


#: (title, bindings) for the help screen: the keys of both image screens first, each once
TABLES = [("Everywhere", APP),
          ("Screens (inspect and compare)",
           [Binding("1", "tab(1)", "Switch to tab 1, 2, 3… (also Ctrl+P: Go to tab)",
                    key_display="1 … 9"),
            *_by_id("screen.quit", "screen.cancel", "inspect.layer_only", "inspect.aggregated",
                    "screen.filter", "screen.search", "screen.write", "screen.write_html",
                    "compare.add", "compare.remove")]),
          ("Compare", [*_by_id("compare.intro"), *PACKAGES_DIFF]),
          ("File tree", FILE_VIEW)]

HELP_NOTES = """\
Tabs: 1, 2, 3… switch tabs (or click them, or Ctrl+P "Go to tab"); Tab / Shift+Tab move
between panes. Enter (or a click) on a category or package row opens the Files tab
filtered to its files.
Filter (Ctrl+F, from any pane): a glob such as *.so* or /usr/bin/*, or re:REGEX; add
:added :modified :removed (or :only :changed :missing in compare) to keep only those
changes, and category:NAME, package:NAME or finding:NAME (setuid, world_writable,
executables, interpreters; e.g. category:shell /usr/bin/*) for a set of files. Terms
combine (all must hold). Empty clears.
Ctrl+U / Ctrl+R hide or show unmodified / removed entries, as in dive (dive's Ctrl+M is
Enter in terminals: hide modified entries from the palette, Ctrl+P, or filter :modified).
View (v): a file's text, or hex for binary; on a symlink, f follows it. In compare, the
path in every image side by side ("absent" where an image lacks it).
Search (/): jumps to the next path containing the text (or matching a glob); n / N repeat.
Layers pane: the tree shows the filesystem as of the highlighted layer, its changes in
colour (green added, yellow modified, red removed). Ctrl+L shows only that layer's changes,
Ctrl+A the whole filesystem again. Layers are numbered 1..N, base first; with the layers
pane focused, the details pane shows the layer: digest, diff_id, sizes, full command and
the files it added, modified and removed.
Compare: one column per image, one row per path across all of them. Marks are against the
first image: green is not in it, yellow differs from it, red is in it but missing here;
in the first image's own column green is in no other image; dim is a path only other
images have. Tab moves to the next image's column (the status line names it). On the
Overview, Enter on "leaves out" lists what that image lacks (:missing in its column), on
"adds" what it adds (:only), on a security row its files (finding:setuid, world_writable,
executables, interpreters), the users, /etc/passwd or the layers; i shows or hides the
intro. Ctrl+L / Ctrl+A / Ctrl+B are inspect's (one image's layers and attributes).
Save: w writes the tab on screen as markdown (the compare or image report; in Files, the
rows shown), W the report as one HTML page (treemaps, category bars, strip list) and the
palette's Screenshot an SVG, both to the working directory (the cache
directory if it is not writable); a toast says where.
dive users: Ctrl+C quits (status 130), Ctrl+Space collapses all, Ctrl+L / Ctrl+A layer
changes."""
