"""HTTP content codings, decoded as a stream: every coding a browser sends (gzip, deflate, br, zstd).

warcio decodes gzip and deflate itself, and brotli through an API that brotli 1.1 removed (warcio#73:
``'brotli.Decompressor' object has no attribute 'unused_data'``); it knows no zstd. Here each coding
is a small incremental decoder with bounded output per step, chained in reverse order of a
``Content-Encoding: gzip, br`` list, so a compression bomb never lands in memory whole.

A body that does not decode from its first bytes is passed through as stored: browser captures
often keep ``Content-Encoding: gzip`` over a body the browser already decoded, and every replay tool
reads those. A coding that fails later, or that is unknown, raises ``CodingError`` with the reason.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from typing import IO, Any, Final, Protocol

import brotli

try:  # Python 3.14 has it in the standard library
    from compression import zstd  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # pragma: no cover - depends on the Python version
    from backports import zstd  # type: ignore[no-redef, unused-ignore]

__all__ = ["CODINGS", "CodingError", "DecodingReader", "content_codings", "decoding_stream"]

STEP: Final = 64 * 1024
"""Bytes read from the stored body, and at most produced, per decoding step."""
IDENTITY: Final = frozenset({"", "identity", "none"})
_PROBE: Final = 4096
"""Bytes read per step until a coded body has produced its first output."""
_SIGNATURES: Final = {"gzip": b"\x1f\x8b", "x-gzip": b"\x1f\x8b", "zstd": b"\x28\xb5\x2f\xfd"}
"""How a coded body opens, where the coding has a signature (deflate and br have none)."""
_SIGNED: Final = frozenset(_SIGNATURES)


def _may_be(coding: str, head: bytes) -> bool:
    """Whether a body opening with ``head`` may be in ``coding`` (False only when its signature is wrong)."""
    signature = _SIGNATURES.get(coding)
    return signature is None or len(head) < len(signature) or head.startswith(signature)


class CodingError(ValueError):
    """A content coding that cannot be decoded: unknown, or broken after its first bytes."""


class _Decoder(Protocol):
    def feed(self, data: bytes) -> bytes:
        """Decode what ``data`` completes; may keep input for later and return ``b""``."""

    def pending(self) -> bytes:
        """More output from input already fed (bounded steps of a highly compressed body)."""

    @property
    def finished(self) -> bool:
        """The coded stream ended; what follows is not part of it."""


class _Zlib:
    """gzip (any number of members, as servers that append them send) and deflate."""

    def __init__(self, wbits: int, *, members: bool) -> None:
        self._wbits = wbits
        self._members = members
        self._inflate = zlib.decompressobj(wbits)
        self._tail = b""

    def feed(self, data: bytes) -> bytes:
        tail, self._tail = self._tail, b""
        return self._run(tail + data)

    def pending(self) -> bytes:
        tail, self._tail = self._tail, b""
        return self._run(tail) if tail else b""

    def _run(self, data: bytes) -> bytes:
        out = self._inflate.decompress(data, STEP)
        # At a member's end zlib leaves what follows in unused_data (and may repeat it in unconsumed_tail).
        self._tail = b"" if self._inflate.eof else self._inflate.unconsumed_tail
        if self._inflate.eof and self._members and self._inflate.unused_data.strip(b"\x00"):
            rest = self._inflate.unused_data
            self._inflate = zlib.decompressobj(self._wbits)
            self._tail = rest
        return out

    @property
    def finished(self) -> bool:
        return self._inflate.eof and not self._tail


class _Deflate(_Zlib):
    """``deflate`` means zlib-wrapped data, but many servers send raw deflate: read either."""

    def __init__(self) -> None:
        super().__init__(zlib.MAX_WBITS, members=False)
        self._decided = False

    def feed(self, data: bytes) -> bytes:
        if not self._decided and data:
            self._decided = True
            if (data[0] & 0x0F) != 8 or (data[0] << 8 | (data[1] if len(data) > 1 else 0)) % 31:
                self._wbits = -zlib.MAX_WBITS
                self._inflate = zlib.decompressobj(self._wbits)
        return super().feed(data)


class _Brotli:
    def __init__(self) -> None:
        self._decompressor = brotli.Decompressor()
        self._held = b""

    def feed(self, data: bytes) -> bytes:
        if not self._decompressor.can_accept_more_data():
            self._held += data
            return self._process(b"")
        return self._process(data)

    def pending(self) -> bytes:
        if self._decompressor.can_accept_more_data() and self._held:
            held, self._held = self._held, b""
            return self._process(held)
        return self._process(b"") if not self._decompressor.can_accept_more_data() else b""

    def _process(self, data: bytes) -> bytes:
        try:
            return bytes(self._decompressor.process(data, output_buffer_limit=STEP))
        except brotli.error as exc:
            raise ValueError(f"brotli: {exc}") from exc

    @property
    def finished(self) -> bool:
        return bool(self._decompressor.is_finished())


class _Zstd:
    def __init__(self) -> None:
        self._decompressor = zstd.ZstdDecompressor()

    def feed(self, data: bytes) -> bytes:
        if self._decompressor.eof:
            return b""
        try:
            return bytes(self._decompressor.decompress(data, STEP))
        except zstd.ZstdError as exc:
            raise ValueError(f"zstd: {exc}") from exc

    def pending(self) -> bytes:
        return b"" if self._decompressor.eof or self._decompressor.needs_input else self.feed(b"")

    @property
    def finished(self) -> bool:
        return bool(self._decompressor.eof)


CODINGS: Final[dict[str, Callable[[], _Decoder]]] = {
    "gzip": lambda: _Zlib(zlib.MAX_WBITS | 16, members=True),
    "x-gzip": lambda: _Zlib(zlib.MAX_WBITS | 16, members=True),
    "deflate": _Deflate,
    "br": _Brotli,
    "zstd": _Zstd,
}
"""Content codings decoded, by their ``Content-Encoding`` token."""


def content_codings(header: str | bytes | None) -> list[str]:
    """The codings a ``Content-Encoding`` value lists, in the order they were applied, identity left out."""
    if isinstance(header, bytes):
        header = header.decode("latin-1")
    return [token for part in (header or "").split(",") if (token := part.strip().lower()) not in IDENTITY]


class DecodingReader(io.RawIOBase):
    """The decoded bytes of one coding over a stream, read in bounded steps.

    When the first bytes do not decode, the stream is read through as stored (``passed_through``
    tells); a failure after that raises ``CodingError``.
    """

    def __init__(self, raw: IO[bytes], coding: str) -> None:
        super().__init__()
        self._raw = raw
        self.coding = coding
        self._decoder = CODINGS[coding]()
        self._output = b""
        self._started = False
        self._ended = False
        self.passed_through = False
        self._first = b""
        self._produced = 0

    def readable(self) -> bool:
        return True

    def _pass_through(self) -> None:
        """Not coded after all (a body decoded on capture, kept under its original header)."""
        self.passed_through = True
        self._output, self._first = self._first, b""

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._output and not self._ended:
            self._step()
        size = min(len(view), len(self._output))
        view[:size] = self._output[:size]
        self._output = self._output[size:]
        return size

    def _step(self) -> None:
        if self.passed_through:
            self._output = self._raw.read(STEP)
            self._ended = not self._output
            return
        try:
            out = self._decoder.pending()
            if not out:
                # Small reads until the coding shows itself: a body that is not coded at all is then
                # told from one broken further on.
                data = b"" if self._decoder.finished else self._raw.read(STEP if self._started else _PROBE)
                if not data:
                    self._ended = True
                    return
                if not self._started:
                    self._first += data
                    if not _may_be(self.coding, self._first):
                        self._pass_through()
                        return
                out = self._decoder.feed(data)
        except (ValueError, zlib.error, EOFError) as exc:
            if not self._started and self.coding not in _SIGNED:
                self._pass_through()  # no signature to tell: a body that never decoded is taken as stored
                return
            raise CodingError(f"{self.coding} data broken after {self._produced} decoded bytes: {exc}") from exc
        if out:
            self._started = True
            self._first = b""
            self._produced += len(out)
        self._output = out


def decoding_stream(raw: IO[bytes], content_encoding: str | bytes | None) -> IO[bytes]:
    """``raw`` with every listed content coding removed (the last applied first).

    Raises:
        CodingError: a coding this reader does not know.
    """
    stream: IO[bytes] = raw
    for coding in reversed(content_codings(content_encoding)):
        if coding not in CODINGS:
            raise CodingError(f"content coding {coding!r} is not decoded (known: {', '.join(sorted(CODINGS))})")
        stream = io.BufferedReader(DecodingReader(stream, coding), STEP)
    return stream
