"""Portal spiders: URLs, link rules and selectors only; the crawl logic lives in ``portal_archive``."""
