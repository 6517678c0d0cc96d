"""A spider for tests: fetch one page plainly, then render it in Chromium, citing the plain capture."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy_playwright.page import PageMethod


class RenderOnceSpider(scrapy.Spider):
    name = "render_once"
    custom_settings = {  # noqa: RUF012 - Scrapy reads this class attribute as-is
        "DOWNLOAD_HANDLERS": {
            "http": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
            "https": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
        },
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": "/usr/bin/chromium",
            "headless": True,
            "args": ["--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        },
    }

    def __init__(self, url: str = "", wait_for: str = "body", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url = url
        self.wait_for = wait_for

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.url, callback=self.parse)

    def parse(self, response: scrapy.http.Response) -> Iterator[scrapy.Request]:
        yield scrapy.Request(
            response.url,
            callback=self.parse_rendered,
            dont_filter=True,
            meta={
                "playwright": True,
                "playwright_page_methods": [PageMethod("wait_for_selector", self.wait_for)],
                "warc_refers_to": response.meta.get("warc_record_id"),
            },
        )

    def parse_rendered(self, response: scrapy.http.Response) -> Iterator[dict[str, Any]]:
        yield {
            "url": response.url,
            "text": " ".join(response.css(self.wait_for + " ::text").getall()),
            "warc_record_id": response.meta.get("warc_record_id"),
            "warc_dom_record_id": response.meta.get("warc_dom_record_id"),
        }
