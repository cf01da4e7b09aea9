"""Constrained input types every schema shares, and the one bounded JSON parser.

Nothing from outside reaches a service or the database unbounded:

* Text: `Annotated[str, SingleLine(200)]` / `Annotated[str, MultiLine(4000)]`
  refuse control characters (a multi-line field admits tab, LF and CR) and
  lone surrogates, which PostgreSQL cannot store, so both databases answer
  the same 422. The JSON schema publishes the rule as a `pattern`.
* Integers: `Offset`, `Limit`, `PageNumber`, `Days`, `Int32`, `Count` carry a
  documented maximum that fits every database's integer column and `OFFSET`.
* Dates: `PlausibleDate` and `PlausibleInstant` refuse years such as 0001 or
  9999 that no document or appointment carries.
* JSON: `parse_json(raw, max_depth=..., max_bytes=...)` is the only JSON
  decoder in the code (an architecture test enforces it): size, nesting
  depth, encoding and non-finite numbers are checked before decoding, so a
  hostile document is a 400/413 problem, never a recursion error.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from itertools import accumulate
from typing import Annotated, Any

import annotated_types as at
from pydantic import AfterValidator, AwareDatetime, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from clinvault.errors.inputs import JsonRejected, JsonTooDeep, JsonTooLarge

# --- text ---------------------------------------------------------------------------------

# C0 and C1 control characters and DEL; multi-line text keeps \t \n \r. Lone surrogates
# are refused by pydantic's string validation itself (and cannot arrive in a query string).
_SINGLE_LINE_FORBIDDEN = "\\x00-\\x1f\\x7f-\\x9f"
_MULTI_LINE_FORBIDDEN = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f"
SINGLE_LINE_PATTERN = f"^[^{_SINGLE_LINE_FORBIDDEN}]*$"
MULTI_LINE_PATTERN = f"^[^{_MULTI_LINE_FORBIDDEN}]*$"
_SINGLE_LINE_BAD = re.compile(f"[{_SINGLE_LINE_FORBIDDEN}]")
_MULTI_LINE_BAD = re.compile(f"[{_MULTI_LINE_FORBIDDEN}]")


def control_character(value: str, *, multiline: bool = False) -> str | None:
    """The first forbidden character of `value` as U+XXXX, or None when the text is clean."""
    found = (_MULTI_LINE_BAD if multiline else _SINGLE_LINE_BAD).search(value)
    return f"U+{ord(found.group()):04X}" if found else None


def refuse_control_characters(value: str, *, multiline: bool = False) -> str:
    bad = control_character(value, multiline=multiline)
    if bad is not None:
        allowed = " (tab and line breaks are allowed)" if multiline else ""
        raise PydanticCustomError(
            "control_character",
            "must not contain control characters{allowed}: remove the character {char}",
            {"char": bad, "allowed": allowed},
        )
    return value


@dataclass(frozen=True, slots=True)
class _Text:
    max_length: int
    min_length: int = 1
    strip: bool = True
    multiline: bool = False

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        multiline = self.multiline

        def check(value: str) -> str:
            return refuse_control_characters(value, multiline=multiline)

        return core_schema.no_info_after_validator_function(
            check,
            core_schema.str_schema(
                min_length=self.min_length,
                max_length=self.max_length,
                strip_whitespace=self.strip,
            ),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault(
            "pattern", MULTI_LINE_PATTERN if self.multiline else SINGLE_LINE_PATTERN
        )
        return json_schema


@dataclass(frozen=True, slots=True)
class SingleLine(_Text):
    """One line of text: no control characters at all. `Annotated[str, SingleLine(200)]`."""

    multiline: bool = False


@dataclass(frozen=True, slots=True)
class MultiLine(_Text):
    """Free text that may hold tab, LF and CR, but no other control character."""

    multiline: bool = True


ShortText = Annotated[str, SingleLine(100)]
Name = Annotated[str, SingleLine(200)]
Identifier = Annotated[str, SingleLine(64)]
SearchText = Annotated[str, SingleLine(100, min_length=0)]
Paragraph = Annotated[str, MultiLine(4000)]
Secret = Annotated[str, SingleLine(1024, min_length=0, strip=False)]
"""Passwords and tokens: taken as typed (not stripped), without control characters."""

# --- integers -----------------------------------------------------------------------------

INT32_MAX = 2**31 - 1
MAX_OFFSET = 10_000_000
MAX_LIMIT = 200
MAX_PAGE = 1_000_000
MAX_DAYS = 3650

Offset = Annotated[int, at.Ge(0), at.Le(MAX_OFFSET)]
"""Items to skip in a list: 0 to 10,000,000 (narrow the filters to reach further)."""
Limit = Annotated[int, at.Ge(1), at.Le(MAX_LIMIT)]
"""Items per page: 1 to 200."""
PageNumber = Annotated[int, at.Ge(1), at.Le(MAX_PAGE)]
Days = Annotated[int, at.Ge(0), at.Le(MAX_DAYS)]
Int32 = Annotated[int, at.Ge(-INT32_MAX - 1), at.Le(INT32_MAX)]
Count = Annotated[int, at.Ge(0), at.Le(INT32_MAX)]

# --- dates --------------------------------------------------------------------------------

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


def _date_in_range(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise PydanticCustomError(
            "date_out_of_range",
            "must be between {earliest} and {latest}: {value} is not a plausible date",
            {
                "earliest": EARLIEST_DATE.isoformat(),
                "latest": LATEST_DATE.isoformat(),
                "value": value.isoformat(),
            },
        )
    return value


def _instant_in_range(value: datetime) -> datetime:
    _date_in_range(value.date())
    return value


@dataclass(frozen=True, slots=True)
class _Range:
    """Publishes the plausible range in the JSON schema's description."""

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault(
            "description",
            f"Between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}.",
        )
        return json_schema


PlausibleDate = Annotated[date, AfterValidator(_date_in_range), _Range()]
PlausibleInstant = Annotated[AwareDatetime, AfterValidator(_instant_in_range), _Range()]

# --- JSON ---------------------------------------------------------------------------------

MAX_JSON_DEPTH = 32
_STRINGS = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in `text`, without decoding it."""
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    return max(accumulate(_DEPTH_STEP[c] for c in brackets), default=0)


def _refuse_constant(name: str) -> Any:
    raise JsonRejected(f"{name} is not a JSON number: send finite numbers only.")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRejected(f"The number {text[:20]} is out of range: send a smaller number.")
    return value


def parse_json(
    raw: bytes | str,
    *,
    max_depth: int,
    max_bytes: int,
    source: str = "The request body",
) -> Any:
    """Decode one JSON document within limits, or raise a JsonRejected/JsonTooLarge problem.

    `source` names the document in the problem's detail ("The 'metadata' part").
    """
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise JsonTooLarge(f"{source} is larger than {max_bytes} bytes: send a smaller document.")
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8")
        except UnicodeDecodeError:
            raise JsonRejected(f"{source} is not UTF-8: send JSON encoded as UTF-8.") from None
    else:
        text = raw
    depth = json_depth(text)
    if depth > max_depth:
        raise JsonTooDeep(
            f"{source} nests arrays and objects {depth} levels deep; at most {max_depth} "
            "are accepted: flatten the document."
        )
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except JsonRejected:
        raise
    except json.JSONDecodeError as exc:
        raise JsonRejected(
            f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}): send a "
            "well-formed JSON document."
        ) from None
    except (ValueError, RecursionError):  # an integer past 4300 digits, among others
        raise JsonRejected(
            f"{source} is not valid JSON within limits: send a well-formed JSON document."
        ) from None
