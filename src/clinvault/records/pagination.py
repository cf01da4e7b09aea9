"""Pages of results: `page` (from 1) and `page_size` (at most 100), with the total."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    total: int
    page: int
    page_size: int


@dataclass(frozen=True, slots=True)
class PageRequest:
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    def __post_init__(self) -> None:
        if self.page < 1 or not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page >= 1 and 1 <= page_size <= {MAX_PAGE_SIZE}")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @property
    def limit(self) -> int:
        return self.page_size


def encode_cursor(moment: datetime, last_id: uuid.UUID) -> str:
    """An opaque position in a chronological list: after (moment, id)."""
    return base64.urlsafe_b64encode(f"{moment.isoformat()}|{last_id}".encode()).decode()


def decode_cursor(text: str) -> tuple[datetime, uuid.UUID]:
    """Raises ValueError when the cursor was not made by `encode_cursor`."""
    try:
        moment, _, last_id = base64.urlsafe_b64decode(text.encode()).decode().partition("|")
        parsed = datetime.fromisoformat(moment)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed, uuid.UUID(last_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("not a cursor of this list") from None
