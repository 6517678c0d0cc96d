"""Reading a component's settings into its frozen config: typed reads that name the key, and renames.

Every component parses its own settings family once, in ``from_settings``, with defaults taken from
``portal_archive.settings``. A value it cannot use stops the crawl at start-up with a
``SettingsError`` that names the setting, instead of a bare ``ValueError`` from deep inside Scrapy.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

__all__ = ["SettingsError", "read_bool", "read_float", "read_int", "renamed_setting"]

logger = logging.getLogger(__name__)


class SettingsError(ValueError):
    """A setting has a value its component cannot use; the message names the setting."""


def read_bool(settings: BaseSettings, key: str, default: bool) -> bool:
    """``key`` as a boolean (``True``/``False``, ``1``/``0``, ``"true"``…); anything else names the key."""
    try:
        return settings.getbool(key, default)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{key} must be True or False, got {settings.get(key)!r}") from exc


def read_int(settings: BaseSettings, key: str, default: int) -> int:
    """``key`` as an integer; anything else names the key."""
    try:
        return settings.getint(key, default)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{key} must be an integer, got {settings.get(key)!r}") from exc


def read_float(settings: BaseSettings, key: str, default: float) -> float:
    """``key`` as a number; anything else names the key."""
    try:
        return settings.getfloat(key, default)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{key} must be a number, got {settings.get(key)!r}") from exc


def renamed_setting(settings: BaseSettings, name: str, old_name: str) -> str:
    """Which of a renamed setting's two names to read: ``name``, or ``old_name`` set by a user.

    The old name is read when it was set at a higher priority than the new one (``-s`` over this
    project's settings module, or set where the new one is not set at all), so users who still set
    it keep what they asked for. Either way a set old name is logged once, with its replacement.
    """
    old_priority = settings.getpriority(old_name)
    if old_priority is None:
        return name
    new_priority = settings.getpriority(name)
    if new_priority is None or old_priority > new_priority:
        logger.warning(
            "The setting %(old)s is renamed %(new)s: its value is used, but set %(new)s instead",
            {"old": old_name, "new": name},
        )
        return old_name
    logger.warning(
        "The setting %(old)s is renamed %(new)s: it is ignored, since %(new)s is set too",
        {"old": old_name, "new": name},
    )
    return name
