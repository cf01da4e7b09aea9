from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from clinvault.ids import normalize_reference, reference, reference_is_valid, uuid7


def test_uuid7_is_version_7_and_time_ordered() -> None:
    ids = [uuid7() for _ in range(200)]
    assert all(isinstance(i, uuid.UUID) and i.version == 7 for i in ids)
    timestamps = [i.int >> 80 for i in ids]
    assert timestamps == sorted(timestamps)
    assert len(set(ids)) == len(ids)


def test_references_are_unique_and_self_checking() -> None:
    refs = {reference() for _ in range(2000)}
    assert len(refs) == 2000
    assert all(len(r) == 11 and reference_is_valid(r) for r in refs)


def test_reading_mistakes_are_tolerated() -> None:
    ref = reference()
    spaced = "-".join([ref[:4], ref[4:8], ref[8:]]).lower()
    assert reference_is_valid(spaced)
    assert normalize_reference("o1-il") == "0111"


@given(st.integers(min_value=0, max_value=10), st.sampled_from("0123456789ABCDEFGHJKMNPQRSTVWXYZ"))
def test_a_single_changed_symbol_is_detected(position: int, symbol: str) -> None:
    ref = reference()
    if ref[position] == symbol:
        return
    changed = ref[:position] + symbol + ref[position + 1 :]
    assert not reference_is_valid(changed)
