"""Installed packages (dpkg, distroless status.d, apk, rpm, python, npm, go, busybox).

- ``registry.py``: the catalogers in the order they run, each with the package type it
  reports and the files it reads (``reads.py``: the rule type). It imports nothing of the
  index, so the walker's capture table (``index/capture.py``) is built from it below the
  catalogers.
- ``builder.py``: ``Package``, ``Catalog``, the ``Builder`` catalogers write into, and
  ``catalog_image(fs)``, the entry point ``analysis`` calls.
- one module per cataloger with ``catalog(fs, out)``; each reads the merged filesystem only
  (file contents were captured while indexing — no layer is read again).

This package's ``__init__`` imports nothing, so importing ``catalog.registry`` costs only
that module.
"""
