"""Keep the crawler from making network calls of its own that the crawl did not ask for."""

from __future__ import annotations

from tldextract import TLDExtract


def use_bundled_public_suffix_list() -> None:
    """Point Scrapy's cookie middleware at tldextract's bundled suffix-list snapshot.

    Otherwise the first cookie triggers a download from publicsuffix.org, which fails (with a
    logged traceback) on offline or firewalled crawl hosts and leaks traffic on others.
    """
    from scrapy.downloadermiddlewares import cookies

    cookies._split_domain = TLDExtract(  # replaced on purpose, see docstring
        suffix_list_urls=(), include_psl_private_domains=True
    )
