"""``inspector check IMAGE [IMAGE…] [--rules FILE]``: the content gate for CI.

Each image is analysed (from any source, through the index and analysis caches, so a
re-check of an unchanged image reads no layer) and every rule gives a verdict: pass, fail
or warn (a failed warn-only rule), with the measured figure and the first offending paths.

The command (its arguments and run): ``inspector/commands/check.py``. The rules: one table,
``rules.py`` (key → kind of value, measure, dive's spelling), the measures ``measures.py``;
rules files: ``config.py`` (TOML, ``rules.example.toml`` documents every key; or dive's
``.dive-ci``); verdicts: ``evaluate.py``; formats: ``output.py``.

Exit codes: 0 every rule passed (warnings allowed), 1 a rule failed (or an image could not
be opened), 2 a usage or rules-file error (the message names the file, line and key).
"""
