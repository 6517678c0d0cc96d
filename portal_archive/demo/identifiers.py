"""The URL identifier formats of the three sites, all drawn from a seeded RNG.

The aggregator's CUIDs embed the ingest time, which is what a crawler can recover
about when a copy appeared; the other formats are opaque, as on the real sites.
"""

from __future__ import annotations

import base64
import random
import re
import string
from datetime import UTC, datetime, timedelta
from typing import Final

BASE36_ALPHABET: Final = string.digits + string.ascii_lowercase
BASE62_ALPHABET: Final = string.digits + string.ascii_letters
CUID_LENGTH: Final = 25
CUID_TIMESTAMP_WIDTH: Final = 8
CUID_BLOCK_WIDTH: Final = 4
CUID_PATTERN: Final = re.compile(r"c[0-9a-z]{24}")
INFOQ_ID_LENGTH: Final = 20
WECHAT_ID_BYTES: Final = 16
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def to_base36(value: int, width: int) -> str:
    """Zero-padded base-36; refuses values that do not fit, so no id is silently truncated."""
    if value < 0 or value >= 36**width:
        raise ValueError(f"{value} does not fit in {width} base-36 digits")
    digits = []
    for _ in range(width):
        value, remainder = divmod(value, 36)
        digits.append(BASE36_ALPHABET[remainder])
    return "".join(reversed(digits))


def random_token(rng: random.Random, alphabet: str, length: int) -> str:
    """A token of `length` symbols drawn from `alphabet`."""
    return "".join(rng.choice(alphabet) for _ in range(length))


def make_cuid_fingerprint(rng: random.Random) -> str:
    """The per-host block of a CUID (process id and host name hash in the original)."""
    return random_token(rng, BASE36_ALPHABET, CUID_BLOCK_WIDTH)


def make_cuid(moment: datetime, counter: int, fingerprint: str, rng: random.Random) -> str:
    """A CUID v1: c + ms timestamp + counter + fingerprint + two random blocks, base 36."""
    if moment.tzinfo is None:
        raise ValueError("CUID timestamps need an aware datetime")
    millis = round(moment.timestamp() * 1000)
    return (
        "c"
        + to_base36(millis, CUID_TIMESTAMP_WIDTH)
        + to_base36(counter % 36**CUID_BLOCK_WIDTH, CUID_BLOCK_WIDTH)
        + fingerprint
        + random_token(rng, BASE36_ALPHABET, 2 * CUID_BLOCK_WIDTH)
    )


def cuid_timestamp(cuid: str) -> datetime:
    """The UTC moment encoded in characters 2-9 of a CUID v1."""
    if not CUID_PATTERN.fullmatch(cuid):
        raise ValueError(f"not a 25-character CUID v1: {cuid!r}")
    millis = int(cuid[1 : 1 + CUID_TIMESTAMP_WIDTH], 36)
    return EPOCH + timedelta(milliseconds=millis)


def make_infoq_id(rng: random.Random) -> str:
    """InfoQ's 20-character base-62 article id."""
    return random_token(rng, BASE62_ALPHABET, INFOQ_ID_LENGTH)


def make_wechat_id(rng: random.Random) -> str:
    """WeChat's short-link id: 16 random bytes as unpadded base64url (22 characters)."""
    raw = rng.getrandbits(8 * WECHAT_ID_BYTES).to_bytes(WECHAT_ID_BYTES, "big")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
