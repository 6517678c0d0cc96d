"""Scrapy commands of this project (``COMMANDS_MODULE``): ``scrapy crawl`` with a clear word on bad
spider arguments."""
