"""``_tarscan.parents`` (the merge's parent set) is its Python reference,
``layerstep.parent_dirs``, and both are ``{p.rpartition("/")[0] for p in paths}``, for any
paths: siblings together or apart, any code point width, no slash."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.index import tarscan
from inspector.index.layerstep import parent_dirs

pytestmark = pytest.mark.skipif(
    not tarscan.available() and os.environ.get("CI") != "true",
    reason="the C accelerator was not built (no compiler); under CI=true this fails")

parts = st.sampled_from(["a", "b", "é", "€", "\U0001f600", "\udcff", "", "x y"])
paths = st.lists(st.lists(parts, max_size=4).map("/".join), max_size=40)


@settings(max_examples=500, deadline=None)
@given(paths, st.booleans())
def test_parents_are_the_rpartition_set(names, grouped):
    if grouped:  # tar order usually keeps siblings together: the shortcut's case
        names.sort()
    assert tarscan._tarscan.parents(names) == parent_dirs(names)
    assert parent_dirs(names) == {p.rpartition("/")[0] for p in names}


#: name, argument, the error
BAD = [
    ("not a list", ("/a",), TypeError),
    ("an item not a str", ["/a", b"/b"], TypeError),
]


@pytest.mark.parametrize("name,arg,error", BAD, ids=[b[0] for b in BAD])
def test_what_is_not_a_list_of_str_is_refused(name, arg, error):
    with pytest.raises(error):
        tarscan._tarscan.parents(arg)
