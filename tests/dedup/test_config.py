"""``DEDUP_*`` settings are parsed once into a frozen config; bad values name their key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from scrapy.settings import Settings

from portal_archive.dedup import DedupConfig, DedupSettingsError


def test_defaults_are_the_measured_ones() -> None:
    config = DedupConfig.from_settings(Settings())
    assert config.enabled is True
    assert config.index_path == Path("archive/dedup.sqlite")
    assert (config.shingle_size, config.num_perm, config.seed) == (5, 128, 1)
    assert (config.bands, config.rows) == (32, 3)
    assert (config.threshold, config.containment, config.containment_min_chars) == (0.7, 0.8, 300)
    assert (config.short_threshold, config.min_chars) == (0.85, 50)
    assert (config.verify, config.sketch_bins, config.sketch_bits, config.signature_bits) == ("oph", 1024, 2, 0)
    assert (config.max_cluster_size, config.max_candidates) == (20, 1000)
    assert config.cache_mib == 8
    assert config.source_domains["InfoQ"] == "infoq.cn"
    assert "bendi.news" in config.aggregator_domains


def test_values_are_read_converted_and_frozen() -> None:
    config = DedupConfig.from_settings(
        Settings(
            {
                "DEDUP_ENABLED": "false",
                "DEDUP_INDEX_PATH": "/tmp/x/dedup.sqlite",
                "DEDUP_SHINGLE_SIZE": "4",
                "DEDUP_NUM_PERM": "256",
                "DEDUP_SEED": "7",
                "DEDUP_BANDS": "64",
                "DEDUP_ROWS": "4",
                "DEDUP_THRESHOLD": "0.8",
                "DEDUP_CONTAINMENT": "0.9",
                "DEDUP_MIN_CHARS": "100",
                "DEDUP_VERIFY": "exact",
                "DEDUP_TIME_TOLERANCE": "60",
                "DEDUP_SOURCE_DOMAINS": '{"城市晚报": "CityDaily.example.cn"}',
                "DEDUP_PUBLISHER_DOMAINS": "www.a.example, b.example",
                "DEDUP_AGGREGATOR_DOMAINS": ["c.example"],
            }
        )
    )
    assert config.enabled is False
    assert config.index_path == Path("/tmp/x/dedup.sqlite")
    assert (config.shingle_size, config.num_perm, config.seed, config.bands, config.rows) == (4, 256, 7, 64, 4)
    assert (config.threshold, config.containment, config.min_chars, config.verify) == (0.8, 0.9, 100, "exact")
    assert config.source_domains["城市晚报"] == "citydaily.example.cn"
    assert config.source_domains["InfoQ"] == "infoq.cn"  # extended, not replaced
    assert config.publisher_domains == ("a.example", "b.example")
    assert config.aggregator_domains == ("c.example",)
    rule, parameters, policy = config.rule(), config.index_parameters(), config.canonical_policy()
    assert (rule.threshold, rule.min_chars) == (0.8, 100)
    assert (parameters.num_perm, parameters.verify, parameters.bands) == (256, "exact", 64)
    assert policy.time_tolerance.total_seconds() == 60
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.threshold = 0.5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("DEDUP_NUM_PERM", "0"),
        ("DEDUP_NUM_PERM", "many"),
        ("DEDUP_CACHE_MIB", "0"),
        ("DEDUP_CACHE_MIB", "lots"),
        ("DEDUP_BANDS", "50"),
        ("DEDUP_THRESHOLD", "1.5"),
        ("DEDUP_CONTAINMENT", "0"),
        ("DEDUP_MIN_CHARS", "0"),
        ("DEDUP_VERIFY", "bloom"),
        ("DEDUP_SKETCH_BINS", "1000"),
        ("DEDUP_SKETCH_BITS", "3"),
        ("DEDUP_SOURCE_DOMAINS", "not json"),
        ("DEDUP_PUBLISHER_DOMAINS", 42),
    ],
)
def test_bad_values_name_the_key(key: str, value: object) -> None:
    with pytest.raises(DedupSettingsError, match=key):
        DedupConfig.from_settings(Settings({key: value}))


def test_the_index_page_cache_is_the_configured_budget(tmp_path: Path) -> None:
    """``DEDUP_CACHE_MIB`` bounds the memory SQLite keeps for the index (a crawl's RSS grows up to it)."""
    from portal_archive.dedup.index import open_index

    config = DedupConfig.from_settings(Settings({"DEDUP_INDEX_PATH": str(tmp_path / "d.sqlite"), "DEDUP_CACHE_MIB": 3}))
    index = open_index(config, config.index_parameters())
    try:
        assert index._db.execute("PRAGMA cache_size").fetchone()[0] == -3 * 1024  # type: ignore[attr-defined]
    finally:
        index.close()
