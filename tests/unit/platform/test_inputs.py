"""The shared constrained input types and the one bounded JSON parser."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import pytest
from pydantic import BaseModel, ValidationError

from clinvault.errors import JsonRejected, JsonTooDeep, JsonTooLarge
from clinvault.inputs import (
    MAX_OFFSET,
    Limit,
    MultiLine,
    Offset,
    PlausibleDate,
    PlausibleInstant,
    SingleLine,
    json_depth,
    parse_json,
)


class Sample(BaseModel):
    line: Annotated[str, SingleLine(20)] = "x"
    text: Annotated[str, MultiLine(50)] = "x"
    offset: Offset = 0
    limit: Limit = 1
    day: PlausibleDate | None = None
    at: PlausibleInstant | None = None


def _errors(**fields: object) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate(fields)
    return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in caught.value.errors()]


@pytest.mark.parametrize("char", ["\x00", "\x07", "\n", "\r", "\t", "\x1b", "\x7f", "\x85"])
def test_single_line_refuses_every_control_character(char: str) -> None:
    (error,) = _errors(line=f"a{char}b")
    assert error.startswith("line: must not contain control characters")
    assert f"U+{ord(char):04X}" in error


def test_multi_line_takes_line_breaks_and_tabs_but_not_nul() -> None:
    assert Sample.model_validate({"text": "one\r\ntwo\tthree"}).text == "one\r\ntwo\tthree"
    (error,) = _errors(text="one\x00two")
    assert "U+0000" in error
    assert "line breaks are allowed" in error


def test_lone_surrogates_are_refused() -> None:
    assert _errors(line="a\ud800")[0].startswith("line:")


def test_text_is_stripped_and_bounded() -> None:
    assert Sample.model_validate({"line": "  padded  "}).line == "padded"
    assert _errors(line="x" * 21)[0].startswith("line:")
    assert _errors(line="   ")[0].startswith("line:")


def test_integers_carry_their_documented_maximum() -> None:
    assert Sample.model_validate({"offset": MAX_OFFSET}).offset == MAX_OFFSET
    assert _errors(offset=2**63)[0].startswith("offset:")
    assert _errors(offset=-1)[0].startswith("offset:")
    assert _errors(limit=201)[0].startswith("limit:")
    schema = Sample.model_json_schema()["properties"]
    assert schema["offset"]["maximum"] == MAX_OFFSET
    assert schema["line"]["pattern"].startswith("^[^")


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "1899-12-31", "2200-01-01"])
def test_implausible_dates_are_refused_naming_the_field(value: str) -> None:
    (error,) = _errors(day=value)
    assert error.startswith("day: must be between 1900-01-01 and 2199-12-31")
    (error,) = _errors(at=f"{value}T00:00:00+01:00")
    assert error.startswith("at: must be between")


def test_plausible_dates_pass() -> None:
    sample = Sample.model_validate({"day": "2024-02-29", "at": "2030-01-01T00:00:00Z"})
    assert sample.day == date(2024, 2, 29)


def test_depth_ignores_brackets_inside_strings() -> None:
    assert json_depth('{"a": "[[[[{{", "b": [[1]]}') == 3
    assert json_depth('["\\"[[[", 1]') == 1
    assert json_depth("7") == 0


def test_deep_nesting_is_refused_before_decoding() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(JsonTooDeep) as caught:
        parse_json(deep, max_depth=32, max_bytes=1_000_000, source="The 'metadata' part")
    assert caught.value.status == 400
    assert caught.value.detail.startswith("The 'metadata' part nests arrays and objects 100000")


def test_size_is_checked_first() -> None:
    with pytest.raises(JsonTooLarge) as caught:
        parse_json(b"[" + b"1," * 600 + b"1]", max_depth=4, max_bytes=1000)
    assert caught.value.status == 413


@pytest.mark.parametrize(
    "raw", [b"{", b'{"a": NaN}', b"[Infinity]", b"1e999", b"\xff\xfe", b"1" * 5000, b""]
)
def test_malformed_documents_are_a_clean_problem(raw: bytes) -> None:
    with pytest.raises(JsonRejected) as caught:
        parse_json(raw, max_depth=32, max_bytes=100_000)
    assert caught.value.status == 400
    assert isinstance(caught.value, ValueError)


def test_well_formed_documents_decode() -> None:
    raw = '\ufeff{"a": [1, 2.5, "x", null, true]}'.encode()
    assert parse_json(raw, max_depth=2, max_bytes=100) == {"a": [1, 2.5, "x", None, True]}
