"""The Textual TUI: the only package that imports textual or rich.

``app.run_app`` routes: no image → the demo comparison, one → the inspect screen, two or
more → the compare screen. Screens read ``Analysis`` objects produced by the core in thread
workers (``loader``) and never touch the network themselves.
"""
