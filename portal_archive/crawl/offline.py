"""Keep the crawler from making network calls of its own that the crawl did not ask for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tldextract import TLDExtract

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def use_bundled_public_suffix_list() -> None:
    """Point Scrapy's cookie middleware at tldextract's bundled suffix-list snapshot.

    Otherwise the first cookie triggers a download from publicsuffix.org, which fails (with a
    logged traceback) on offline or firewalled crawl hosts and leaks traffic on others.
    """
    from scrapy.downloadermiddlewares import cookies

    cookies._split_domain = TLDExtract(  # replaced on purpose, see docstring
        suffix_list_urls=(), include_psl_private_domains=True
    )


class OfflineAddon:
    """Switches the cookie middleware to the bundled public suffix list at the start of every crawl.

    A Scrapy add-on (``ADDONS`` in ``portal_archive.settings``): add-ons run in every process that
    crawls, before any component is built, so the switch needs no side effect of importing settings.
    """

    def update_settings(self, settings: BaseSettings) -> None:
        """Settings stay as they are; the suffix list is switched to the bundled one."""
        use_bundled_public_suffix_list()
