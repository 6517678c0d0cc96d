"""``DEDUP_*`` settings, parsed once into a frozen value object.

Defaults live in ``portal_archive.settings`` and are the measured ones (notes/dedup.md and
``bench/dedup.py``): character 5-grams, 128 permutations, 32 bands of 3 rows, a 256-byte
one-permutation sketch (1,024 bins of 2 bits) for verification and no stored signature (under 1 KB
per document in the index), Jaccard 0.7 or containment 0.8 (from 300 characters), J 0.85 under 300
characters, nothing under 50.

The index is a SQLite file (``DEDUP_INDEX_PATH``) unless ``DEDUP_INDEX_URL`` names a Redis server,
or ``DISTRIBUTED_REDIS_URL`` does and ``DEDUP_INDEX_URL`` is empty (docs/dedup-redis.md).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Self
from urllib.parse import urlsplit

from portal_archive import settings as project
from portal_archive.dedup.canonical import (
    DEFAULT_AGGREGATOR_DOMAINS,
    DEFAULT_PUBLISHER_DOMAINS,
    DEFAULT_SOURCE_DOMAINS,
    CanonicalPolicy,
)
from portal_archive.dedup.index.base import SIGNATURE_BITS, IndexParameters
from portal_archive.dedup.sketch import SKETCHES
from portal_archive.dedup.verify import CopyRule

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

__all__ = ["INDEX_URL_SCHEMES", "REDIS_PREFIX", "DedupConfig", "DedupSettingsError", "is_index_url", "redact_url"]

INDEX_URL_SCHEMES: Final = ("redis", "rediss", "unix")
"""``DEDUP_INDEX_URL`` schemes, all served by the Redis index (TCP, TLS, a local socket)."""
REDIS_PREFIX: Final = project.DEDUP_REDIS_PREFIX
INDEX_FILE_NAME: Final = "dedup.sqlite"
"""The SQLite index's name in ``WARC_DIR`` when ``DEDUP_INDEX_PATH`` is empty."""


class DedupSettingsError(ValueError):
    """A ``DEDUP_*`` setting has a value the engine cannot use; the message names the key."""


def _domains(value: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [part for part in value.replace(";", ",").split(",")]
    if not isinstance(value, list | tuple | set | frozenset):
        raise DedupSettingsError(f"{key} must be a list of domains or a comma-separated string, got {value!r}")
    return tuple(str(part).strip().lower().removeprefix("www.") for part in value if str(part).strip())


def redact_url(url: str) -> str:
    """An index URL fit for logs and messages: any password replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


def is_index_url(text: str) -> bool:
    """Whether ``text`` names a Redis index (``redis://``, ``rediss://``, ``unix://``) rather than a file."""
    scheme, separator, _ = text.strip().partition("://")
    return bool(separator) and scheme.lower() in INDEX_URL_SCHEMES


def _index_url(value: Any, key: str) -> str:
    """``""`` or a URL whose scheme the Redis index serves; anything else names ``key``."""
    url = str(value or "").strip()
    if not url:
        return ""
    if not is_index_url(url):
        raise DedupSettingsError(
            f"{key} must be empty (the SQLite index at DEDUP_INDEX_PATH) or a redis://, rediss:// or unix:// URL, "
            f"got {redact_url(url)!r}"
        )
    return url


def _mapping(value: Any, key: str) -> Mapping[str, str]:
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except json.JSONDecodeError as exc:
            raise DedupSettingsError(f"{key} must be a dict or a JSON object, got {value!r}") from exc
    if not isinstance(value, Mapping):
        raise DedupSettingsError(f"{key} must be a dict of outlet name → domain, got {value!r}")
    return MappingProxyType({str(name): str(domain).strip().lower() for name, domain in value.items()})


@dataclass(frozen=True, kw_only=True)
class DedupConfig:
    """Everything the near-duplicate engine and pipeline are configured with.

    Each field is the ``DEDUP_<FIELD>`` setting (``DEDUP_INDEX_PATH``, ``DEDUP_NUM_PERM``…);
    ``source_domains`` extends the built-in outlet table rather than replacing it.
    """

    enabled: bool = project.DEDUP_ENABLED
    index_path: Path = Path(project.WARC_DIR) / INDEX_FILE_NAME
    """The SQLite index, used when ``index_url`` is empty."""
    index_url: str = project.DEDUP_INDEX_URL
    """A Redis index shared by crawl workers on several machines (``redis://``, ``rediss://``,
    ``unix://``); empty uses the SQLite file at ``index_path``. From ``DEDUP_INDEX_URL``, else
    ``DISTRIBUTED_REDIS_URL`` (the distributed crawl's server)."""
    index_url_setting: str = "DEDUP_INDEX_URL"
    """The setting ``index_url`` came from, named in error messages."""
    redis_prefix: str = REDIS_PREFIX
    """Prefix of every key of the Redis index, so that several indexes can share a server."""
    shingle_size: int = project.DEDUP_SHINGLE_SIZE
    num_perm: int = project.DEDUP_NUM_PERM
    seed: int = project.DEDUP_SEED
    bands: int = project.DEDUP_BANDS
    rows: int = project.DEDUP_ROWS
    threshold: float = project.DEDUP_THRESHOLD
    containment: float = project.DEDUP_CONTAINMENT
    containment_min_chars: int = project.DEDUP_CONTAINMENT_MIN_CHARS
    short_threshold: float = project.DEDUP_SHORT_THRESHOLD
    min_chars: int = project.DEDUP_MIN_CHARS
    verify: str = project.DEDUP_VERIFY
    sketch_bins: int = project.DEDUP_SKETCH_BINS
    sketch_bits: int = project.DEDUP_SKETCH_BITS
    signature_bits: int = project.DEDUP_SIGNATURE_BITS
    """Bits of each MinHash value stored per document (0, 8, 16 or 32): 0 stores none, which
    nothing needs once the band keys are written (``num_perm * bits / 8`` bytes per document)."""
    max_cluster_size: int = project.DEDUP_MAX_CLUSTER_SIZE
    max_candidates: int = project.DEDUP_MAX_CANDIDATES
    """Candidates verified per document at most (a text repeated thousands of times reaches it)."""
    time_tolerance: float = project.DEDUP_TIME_TOLERANCE
    """Seconds within which two publication times count as simultaneous."""
    source_domains: Mapping[str, str] = field(default_factory=lambda: DEFAULT_SOURCE_DOMAINS)
    publisher_domains: tuple[str, ...] = DEFAULT_PUBLISHER_DOMAINS
    aggregator_domains: tuple[str, ...] = DEFAULT_AGGREGATOR_DOMAINS
    commit_every: int = project.DEDUP_COMMIT_EVERY
    """Documents per SQLite transaction: the most a crash can lose."""
    cache_mib: int = project.DEDUP_CACHE_MIB
    """SQLite page cache of the index, in MiB. A crawl's memory grows with it until it is full. On
    ``bench/dedup.py``'s corpus 8 MiB ran 10,000 documents (a 9 MB index) as fast as 64 MiB and
    2 MiB 7 % slower; at 100,000 documents (96 MB) 64 MiB was 10 % faster than 8."""
    commit_interval: float = project.DEDUP_COMMIT_INTERVAL
    """Seconds a transaction may stay open (0: no limit). Crawls sharing one index see each other's
    documents, and get the write lock, at least this often; a crawl commits when it idles, too."""

    def __post_init__(self) -> None:
        self.validate()

    def at_index(self, index: str | Path, setting: str = "--index") -> DedupConfig:
        """This configuration on another index: a Redis URL (named ``setting`` in messages) or a
        SQLite file."""
        if isinstance(index, str) and is_index_url(index):
            return dataclasses.replace(self, index_url=index.strip(), index_url_setting=setting)
        return dataclasses.replace(self, index_url="", index_path=Path(index))

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        """Read and validate the ``DEDUP_*`` family.

        Raises:
            DedupSettingsError: A value is unusable; the message names the setting.
        """
        defaults = cls()
        try:
            # A distributed crawl shares its Redis server with the index unless told otherwise.
            url_setting = "DEDUP_INDEX_URL" if settings.get("DEDUP_INDEX_URL") else "DISTRIBUTED_REDIS_URL"
            values: dict[str, Any] = {
                "enabled": settings.getbool("DEDUP_ENABLED", defaults.enabled),
                "index_url": _index_url(settings.get(url_setting), url_setting),
                "index_url_setting": url_setting,
                "redis_prefix": str(settings.get("DEDUP_REDIS_PREFIX") or defaults.redis_prefix),
                # Beside the WARC files unless told otherwise, so one archive folder holds one crawl's state.
                "index_path": Path(
                    settings.get("DEDUP_INDEX_PATH")
                    or Path(settings.get("WARC_DIR") or project.WARC_DIR) / INDEX_FILE_NAME
                ),
                "verify": str(settings.get("DEDUP_VERIFY") or defaults.verify),
                "source_domains": MappingProxyType(
                    {
                        **defaults.source_domains,
                        **_mapping(settings.get("DEDUP_SOURCE_DOMAINS") or {}, "DEDUP_SOURCE_DOMAINS"),
                    }
                ),
                "publisher_domains": _domains(
                    settings.get("DEDUP_PUBLISHER_DOMAINS", defaults.publisher_domains), "DEDUP_PUBLISHER_DOMAINS"
                ),
                "aggregator_domains": _domains(
                    settings.get("DEDUP_AGGREGATOR_DOMAINS", defaults.aggregator_domains), "DEDUP_AGGREGATOR_DOMAINS"
                ),
            }
            for name in ("shingle_size", "num_perm", "seed", "bands", "rows", "containment_min_chars", "min_chars"):
                values[name] = _read(settings, name, settings.getint, getattr(defaults, name))
            for name in (
                "sketch_bins",
                "sketch_bits",
                "signature_bits",
                "max_cluster_size",
                "max_candidates",
                "commit_every",
                "cache_mib",
            ):
                values[name] = _read(settings, name, settings.getint, getattr(defaults, name))
            for name in ("threshold", "containment", "short_threshold", "time_tolerance", "commit_interval"):
                values[name] = _read(settings, name, settings.getfloat, getattr(defaults, name))
        except ValueError as exc:
            if isinstance(exc, DedupSettingsError):
                raise
            raise DedupSettingsError(str(exc)) from exc
        return cls(**values)

    def validate(self) -> None:
        """Reject values the engine cannot work with, naming the setting."""
        _index_url(self.index_url, self.index_url_setting)
        if not self.redis_prefix or any(ch.isspace() for ch in self.redis_prefix):
            raise DedupSettingsError(f"DEDUP_REDIS_PREFIX must be non-empty without spaces, got {self.redis_prefix!r}")
        positive = (
            "shingle_size",
            "num_perm",
            "bands",
            "rows",
            "min_chars",
            "max_cluster_size",
            "max_candidates",
            "commit_every",
            "cache_mib",
        )
        for name in positive:
            if getattr(self, name) < 1:
                raise DedupSettingsError(f"DEDUP_{name.upper()} must be at least 1, got {getattr(self, name)}")
        if self.commit_interval < 0:
            raise DedupSettingsError(f"DEDUP_COMMIT_INTERVAL must not be negative, got {self.commit_interval}")
        if self.bands * self.rows > self.num_perm:
            raise DedupSettingsError(
                f"DEDUP_BANDS * DEDUP_ROWS = {self.bands} * {self.rows} exceeds DEDUP_NUM_PERM = {self.num_perm}"
            )
        for name in ("threshold", "containment", "short_threshold"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise DedupSettingsError(f"DEDUP_{name.upper()} must be in (0, 1], got {getattr(self, name)}")
        if self.containment_min_chars < 0 or self.time_tolerance < 0:
            raise DedupSettingsError("DEDUP_CONTAINMENT_MIN_CHARS and DEDUP_TIME_TOLERANCE must not be negative")
        if self.verify not in SKETCHES:
            raise DedupSettingsError(f"DEDUP_VERIFY must be one of {sorted(SKETCHES)}, got {self.verify!r}")
        if self.verify == "oph" and (self.sketch_bins < 8 or self.sketch_bins & (self.sketch_bins - 1)):
            raise DedupSettingsError(f"DEDUP_SKETCH_BINS must be a power of two >= 8, got {self.sketch_bins}")
        if self.verify == "oph" and self.sketch_bits not in (2, 4, 8):
            raise DedupSettingsError(f"DEDUP_SKETCH_BITS must be 2, 4 or 8, got {self.sketch_bits}")
        if self.signature_bits not in SIGNATURE_BITS:
            raise DedupSettingsError(
                f"DEDUP_SIGNATURE_BITS must be one of {', '.join(map(str, SIGNATURE_BITS))}, got {self.signature_bits}"
            )

    @property
    def index_location(self) -> str:
        """Where the index is, for logs and messages (a Redis URL without its password, and the prefix)."""
        return f"{redact_url(self.index_url)} {self.redis_prefix}" if self.index_url else str(self.index_path)

    def rule(self) -> CopyRule:
        """The copy rule these thresholds define."""
        return CopyRule(**{spec.name: getattr(self, spec.name) for spec in fields(CopyRule)})

    def index_parameters(self) -> IndexParameters:
        """The parameters stored with, and checked against, the index: every one this configuration
        sets; the others (scheme, shingle hash, text preparation, format) are this code's."""
        return IndexParameters(**{name: getattr(self, name) for name in _INDEX_SETTINGS})

    def canonical_policy(self) -> CanonicalPolicy:
        """How the original of a cluster is chosen."""
        return CanonicalPolicy(
            source_domains=self.source_domains,
            publisher_domains=self.publisher_domains,
            aggregator_domains=self.aggregator_domains,
            time_tolerance=timedelta(seconds=self.time_tolerance),
            rule=self.rule(),
        )


_INDEX_SETTINGS: Final = tuple(
    spec.name for spec in fields(IndexParameters) if spec.name in {setting.name for setting in fields(DedupConfig)}
)
"""The index parameters a ``DEDUP_*`` setting gives."""


def _read(settings: BaseSettings, name: str, getter: Any, default: Any) -> Any:
    key = f"DEDUP_{name.upper()}"
    try:
        return getter(key, default)
    except (TypeError, ValueError) as exc:
        raise DedupSettingsError(f"{key} must be a number, got {settings.get(key)!r}") from exc
