"""What screens and widgets may ask of the app, as a ``Protocol`` the app satisfies: the
state every screen shares (analyses by reference, the options, the layer memo), saving a
file, and the routing to other screens. Nothing under ``tui/`` but ``app.py`` imports a
screen or the app: a screen opens another through these methods, so screens never import
each other and nothing imports the app (``InspectorApp`` implements this; a test checks
it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from collections.abc import Sequence

    from textual.dom import DOMNode

    from inspector.analysis import Analysis, LayerMemo
    from inspector.options import Options
    from inspector.tui.binary import Content
    from inspector.tui.scan import ScanInput

#: what a prompt calls with its answer (None: cancelled)
Answer = Callable[[str | None], None]


class AppState(Protocol):
    #: analyses by reference, shared by every screen of this run
    analyses: dict[str, Analysis]
    options: Options
    #: layer indexes shared between images (a common base is indexed once)
    memo: LayerMemo
    #: the ``--vulns`` reports, ``--vulns-any-image`` and ``--base-image`` of this run
    scan: ScanInput

    def save_text(self, name: str, content: str, what: str,
                  mime_type: str = "text/markdown") -> Path | None: ...

    # ---- routing: the screens the app opens on a screen's behalf ------------------------
    def ask(self, title: str, initial: str, *, id: str, then: Answer) -> None:
        """The one-line prompt; ``then(answer)``."""

    def ask_image(self, title: str, take: Callable[[str], None]) -> None:
        """The image prompt (samples listed, near misses asked again); ``take(reference)``."""

    def view_content(self, title: str, text: Content = "", *,
                     columns: Sequence[tuple[str, Content]] | None = None,
                     follow: str | None = None, then: Answer | None = None) -> None:
        """The file viewer; ``then(target)`` when the user follows the link (``f``)."""

    def open_compare(self, references: list[str]) -> None:
        """The compare screen on ``references``, over the current one."""

    def open_fit(self, reference: str, label: str) -> None:
        """The fit of ``reference`` (shown as ``label``), the demo app offered beside it."""


def inspector_app(node: DOMNode) -> AppState:
    """``node.app`` as what screens may ask of it (Textual types it as a plain ``App``)."""
    return cast("AppState", node.app)
