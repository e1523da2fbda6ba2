"""The state every screen shares lives on the app: analyses by reference, the options and
the layer memo (``InspectorApp``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from inspector.tui.app import InspectorApp


def inspector_app(node: DOMNode) -> InspectorApp:
    """``node.app``, typed as the ``InspectorApp`` it runs in (Textual types it as a plain
    ``App``; importing the app class here at run time would be an import cycle)."""
    return cast("InspectorApp", node.app)
