"""The loading panel: per-layer progress for every image being loaded, Esc to cancel."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from inspector.report.progress import DONE, transferred
from inspector.tui.format import bar, human
from inspector.tui.messages import LayerState
from inspector.visible import visible

BAR = 16


class LoadingPanel(Static):
    """Per image: stage and what loading moved (``report.progress.transferred``: fetched
    by range from a table of contents, or read), then per layer bytes read or fetched and
    indexed."""

    DEFAULT_CSS = """
    LoadingPanel { padding: 1 2; height: 1fr; }
    """

    def __init__(self, references: list[str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.states: dict[str, tuple[str, list[LayerState]]] = {
            ref: ("waiting", []) for ref in references}
        self.errors: dict[str, str] = {}

    def reset(self, references: list[str]) -> None:
        self.states = {ref: ("waiting", []) for ref in references}
        self.errors = {}
        self.update(self.render_state())

    def on_mount(self) -> None:
        self.update(self.render_state())

    def set_progress(self, reference: str, stage: str, layers: list[LayerState]) -> None:
        self.states[reference] = (stage, layers)
        self.update(self.render_state())

    def set_error(self, reference: str, error: str) -> None:
        self.errors[reference] = error
        self.update(self.render_state())

    def render_state(self) -> Table:
        grid = Table.grid(padding=(0, 1))
        grid.add_column()
        for ref, (stage, layers) in self.states.items():
            title = Text.assemble((visible(ref), "bold"), "  ")
            if ref in self.errors:
                title.append(visible(self.errors[ref]), style="red")
            else:
                done = sum(1 for s in layers if s.state in DONE)
                moved = transferred(layers)
                title.append(f"{stage} · {done}/{len(layers)} layers" if layers else stage,
                             style="dim")
                if moved:
                    title.append(f" · {moved}", style="dim")
            grid.add_row(title)
            for i, s in enumerate(layers):
                frac = s.compressed_done / s.compressed_total if s.compressed_total else 1.0
                if s.state in DONE:
                    frac = 1.0
                line = Text(f"  {i + 1:>3} ")  # layers 1..N, as everywhere in the TUI
                line.append(bar(int(frac * 1000), 1000, BAR).ljust(BAR), style="green")
                line.append(f" {human(s.compressed_done):>9} / {human(s.compressed_total):<9}"
                            f" {'fetched' if s.toc else 'read'}  "
                            f"{human(s.uncompressed_done):>9} indexed  {s.state}"
                            f"{' (TOC)' if s.toc else ''}", style="dim")
                grid.add_row(line)
        if any(ref not in self.errors for ref in self.states):  # something still loads
            grid.add_row(Text("\nEsc cancels loading.", style="dim"))
        return grid
