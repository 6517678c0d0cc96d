"""Components switched off by configuration say so at DEBUG, not as a WARNING in every crawl.

Each of the project's components raises ``NotConfigured("reason")`` when its settings turn it off
(``RUN_STATS_FILE`` empty, ``DISTRIBUTED_REDIS_URL`` empty, ``*_ENABLED`` False), and Scrapy's
component manager logs every such reason as a WARNING: two of them in every plain crawl, and a
warning that is always there teaches users to read past warnings. The reason stays (``LOG_LEVEL=DEBUG``
shows it); other packages' components keep Scrapy's behaviour.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

OWN_COMPONENTS: Final = ("portal_archive.", "pipelines.", "spiders.")
_DISABLED_MESSAGE: Final = "Disabled %(clspath)s: %(eargs)s"
_MANAGER_LOGGER: Final = "scrapy.middleware"


class OffByConfiguration(logging.Filter):
    """Lowers Scrapy's "Disabled <component>: <reason>" to DEBUG for the project's own components."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if (
            record.msg == _DISABLED_MESSAGE
            and isinstance(args, dict)
            and str(args.get("clspath", "")).startswith(OWN_COMPONENTS)
        ):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


def quiet_disabled_components() -> None:
    """Install the filter on Scrapy's component-manager logger, once per process."""
    logger = logging.getLogger(_MANAGER_LOGGER)
    if not any(isinstance(existing, OffByConfiguration) for existing in logger.filters):
        logger.addFilter(OffByConfiguration())


class QuietAddon:
    """Installs ``OffByConfiguration`` at the start of every crawl, before any component is built
    (``ADDONS`` in ``portal_archive.settings``)."""

    def update_settings(self, settings: BaseSettings) -> None:
        """Settings stay as they are."""
        quiet_disabled_components()
