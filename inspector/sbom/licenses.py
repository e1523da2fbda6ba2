"""How a declared licence string goes into an SBOM: an SPDX id, an SPDX expression or
neither (``license_form``). Only a known id goes in as an id and only an expression whose
every licence is a known id as an expression; anything else is a ``name`` (CycloneDX) or a
``LicenseRef-`` with its text (SPDX), so a hostile string never makes a document invalid."""

from __future__ import annotations

import re

#: Debian's short names for the GNU licences (``GPL-2+``) → their SPDX ids
_GNU_SHORT = re.compile(r"(A?GPL|LGPL|GFDL)-(\d)(?:\.(\d))?(\+?)")
#: ``Apache-2`` is ``Apache-2.0``
_MAJOR = re.compile(r"-\d$")
_OPERATOR = re.compile(r"\s(AND|OR|WITH)\s", re.I)


def license_form(value: str) -> tuple[str, str]:
    """``("id", SPDX-ID)``, ``("expression", SPDX expression)`` or ``("name", value)``:
    how a declared licence goes into an SBOM (``GPL-2+`` is ``GPL-2.0-or-later``)."""
    from cyclonedx.spdx import fixup_id, get_spdx_licensing

    gnu = _GNU_SHORT.fullmatch(value)
    if gnu:
        family, major, minor, plus = gnu.groups()
        found = fixup_id(f"{family}-{major}.{minor or 0}-{'or-later' if plus else 'only'}")
    else:
        found = fixup_id(value) or (fixup_id(value + ".0") if _MAJOR.search(value) else None)
    if found:
        return "id", found
    if _OPERATOR.search(value):
        try:
            info = get_spdx_licensing().validate(value)
        except Exception:  # noqa: BLE001 - the parser raises assorted errors on bad input
            return "name", value
        if not info.errors and not info.invalid_symbols and info.normalized_expression:
            return "expression", info.normalized_expression
    return "name", value
