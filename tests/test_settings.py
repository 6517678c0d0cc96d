"""Settings are parsed once into frozen config objects; bad values name their key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from portal_archive.capture.config import WarcConfig, WarcSettingsError
from portal_archive.capture.extension import WarcCaptureExtension


def test_defaults() -> None:
    config = WarcConfig.from_settings(Settings())
    assert config.enabled is True
    assert config.directory == Path("archive")
    assert config.max_size == 1_000_000_000
    assert config.gzip_level == 6


def test_values_are_read_and_frozen() -> None:
    config = WarcConfig.from_settings(
        Settings(
            {
                "WARC_DIR": "/tmp/x",
                "WARC_MAX_SIZE": "5000",
                "WARC_GZIP_LEVEL": "9",
                "WARC_PREFIX": "crawl-1",
                "WARC_OPERATOR": "Archive Team <a@example.org>",
            }
        )
    )
    assert (config.directory, config.max_size, config.gzip_level, config.prefix) == (Path("/tmp/x"), 5000, 9, "crawl-1")
    assert config.operator == "Archive Team <a@example.org>"
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.max_size = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("WARC_MAX_SIZE", "10"),
        ("WARC_GZIP_LEVEL", "11"),
        ("WARC_PREFIX", "../escape"),
        ("WARC_REVISIT_MIN_SIZE", "-1"),
    ],
)
def test_bad_values_name_the_key(key: str, value: str) -> None:
    with pytest.raises(WarcSettingsError, match=key):
        WarcConfig.from_settings(Settings({key: value}))


def test_project_settings_close_code_execution_endpoints() -> None:
    from portal_archive import settings

    assert settings.TELNETCONSOLE_ENABLED is False
    assert settings.REMOTE_CONTROL_ENABLED is False
    assert settings.ROBOTSTXT_OBEY is True
    assert "portal-archive" in settings.USER_AGENT


def test_capture_extension_not_configured_when_disabled() -> None:
    from scrapy.exceptions import NotConfigured

    crawler = get_crawler(settings_dict={"WARC_ENABLED": False})
    with pytest.raises(NotConfigured, match="WARC_ENABLED"):
        WarcCaptureExtension.from_crawler(crawler)


def test_capture_extension_built_from_crawler(tmp_path: Path) -> None:
    crawler = get_crawler(settings_dict={"WARC_DIR": str(tmp_path), "WARC_PREFIX": "unit"})
    extension = WarcCaptureExtension.from_crawler(crawler)
    assert extension.writer.directory == tmp_path
    assert extension.writer.prefix == "unit"
    assert extension.writer.gzip_level == 6
