"""CSV text lines decoded from a stream of byte chunks, one chunk at a time, no I/O.

`ChunkLines` turns chunks (pulled from a callable, so the caller decides where
they come from) into the lines a `csv.reader` expects from a file opened with
`newline=''`: split after `\\n`, `\\r\\n` or `\\r`, line ends kept. It holds at
most one chunk's lines plus one partial line, so the memory it needs does not
depend on the size of the file. UTF-8 is decoded incrementally (a leading BOM is
dropped); a byte sequence that is not UTF-8 raises `FileProblem` naming the
likely encoding and the offset of the bad byte.
"""

from __future__ import annotations

import codecs
import re
from collections import deque
from collections.abc import Callable, Iterator

from clinvault.ingest.parser import not_utf8

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)")


class ChunkLines(Iterator[str]):
    """Iterates lines; `next_chunk()` returns the next bytes, or None at the end."""

    def __init__(self, next_chunk: Callable[[], bytes | None]) -> None:
        self._next_chunk = next_chunk
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._lines: deque[str] = deque()
        self._rest = ""
        self._done = False
        self.bytes_read = 0
        """Bytes of the file taken from the source so far (a little ahead of the rows read)."""

    def __iter__(self) -> ChunkLines:
        return self

    def __next__(self) -> str:
        while not self._lines:
            if self._done:
                raise StopIteration
            self._fill()
        return self._lines.popleft()

    def _fill(self) -> None:
        chunk = self._next_chunk()
        final = chunk is None
        text = self._decode(chunk or b"", final=final)
        if chunk:
            self.bytes_read += len(chunk)
        data = self._rest + text
        # A '\r' at the very end may be the first half of '\r\n': keep it for the next chunk.
        end = len(data) - 1 if not final and data.endswith("\r") else len(data)
        cut = max(data.rfind("\n", 0, end), data.rfind("\r", 0, end)) + 1
        if cut:
            self._lines.extend(_LINE.findall(data, 0, cut))
        self._rest = data[cut:]
        if final:
            self._done = True
            if self._rest:
                self._lines.append(self._rest)
                self._rest = ""

    def _decode(self, chunk: bytes, *, final: bool) -> str:
        pending = len(self._decoder.getstate()[0])
        try:
            return self._decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            offset = max(0, self.bytes_read - pending + exc.start)
            sample = exc.object[max(0, exc.start - 2048) : exc.start + 2048]
            raise not_utf8(sample, offset) from None
