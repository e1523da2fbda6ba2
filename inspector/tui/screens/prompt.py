"""The one-line prompt (a modal screen) and asking for an image with it: the bundled
samples listed, a near miss of a sample's name asked again."""

from __future__ import annotations

import difflib
from collections.abc import Callable

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from inspector.visible import visible


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line of text; Enter answers, Esc answers ``None``."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="prompt.cancel")]
    DEFAULT_CSS = """
    PromptScreen { align: center middle; }
    PromptScreen > Vertical { width: 70%; min-width: 40; height: auto; border: round $primary;
                              background: $panel; padding: 0 1; }
    PromptScreen Label { width: 1fr; }
    """

    def __init__(self, title: str, initial: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title_text = title
        self.initial = initial

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text))  # may hold a path or a typed name: no markup
            yield Input(self.initial, id="prompt-input", select_on_focus=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


def _sample_names() -> list[str]:
    from inspector.sources.samples import sample_names

    try:
        return sample_names()
    except Exception:  # no bundled samples: the prompt just does not list them
        return []


def image_prompt(title: str, initial: str = "", id: str = "add-prompt") -> PromptScreen:
    """Ask for an image, listing the bundled samples (a bare name is enough)."""
    names = _sample_names()
    hint = f" — or a bundled sample: {', '.join(names)}" if names else ""
    return PromptScreen(f"{title}: a reference (oci:DIR, docker-archive:FILE, NAME:TAG){hint}",
                        initial, id=id)


#: how alike a bare name and a sample's name must be to suggest the sample (difflib ratio)
NEAR_SAMPLE = 0.75


def near_sample(answer: str) -> str | None:
    """The bundled sample a bare name was probably meant to be (``distroless-statc`` →
    ``distroless-static``); None for a sample's own name, a reference with a transport,
    registry or tag, or nothing close."""
    names = _sample_names()
    if not answer or answer in names or any(c in answer for c in ":/@"):
        return None
    close = difflib.get_close_matches(answer, names, n=1, cutoff=NEAR_SAMPLE)
    return close[0] if close else None


def ask_image(app: App, title: str, take: Callable[[str], None]) -> None:
    """Prompt for an image and call ``take(reference)`` with the answer; a bare name close
    to a sample's asks again ("did you mean …?", the sample filled in) instead of going to
    a registry that has no such name."""

    def answered(answer: str | None) -> None:
        guess = near_sample(answer or "")
        if guess is not None:
            # a new id: the answered prompt is still on the stack while this runs
            app.push_screen(image_prompt(f"{visible(answer)} is not a sample: did you mean "
                                         f"{guess}? Enter takes it. {title}", guess,
                                         id="near-prompt"), answered)
            return
        ref = image_reference(answer or "")
        if ref:
            take(ref)

    app.push_screen(image_prompt(title), answered)


def image_reference(answer: str) -> str:
    """The prompt's answer as a reference: a bare sample name (``distroless-base``) means
    the bundled sample, not a Docker Hub repository."""
    if answer and ":" not in answer and answer in _sample_names():
        return "sample:" + answer
    return answer
