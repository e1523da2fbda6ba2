"""The shared hostile-strings table agrees with the one escaping rule, and its checker bites."""

import pytest

from inspector.visible import visible
from tests.hostile.strings import HOSTILE, Hostile, assert_inert, ids, unsafe_in


@pytest.mark.parametrize("hostile", HOSTILE, ids=ids())
def test_shown_is_the_visible_form(hostile: Hostile):
    assert visible(hostile.raw) == hostile.shown
    assert visible(hostile.raw_bytes) == hostile.shown
    assert_inert(hostile.shown, hostile.shown)


@pytest.mark.parametrize("hostile", [h for h in HOSTILE if unsafe_in(h.raw)],
                         ids=ids([h for h in HOSTILE if unsafe_in(h.raw)]))
def test_checker_catches_the_raw_form(hostile: Hostile):
    with pytest.raises(AssertionError):
        assert_inert(hostile.raw)
    with pytest.raises(AssertionError):
        assert_inert(hostile.raw_bytes)
