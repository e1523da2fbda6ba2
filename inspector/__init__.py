"""inspector: open any container image, index every layer, compare what images contain.

The headless core (everything but ``inspector.tui``) never imports textual or rich.
"""

__version__ = "0.1.0"
