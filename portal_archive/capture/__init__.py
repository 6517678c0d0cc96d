"""Capture: every HTTP exchange of a crawl archived to WARC files as it happens.

- ``extension``: the Scrapy extension that writes each exchange at ``response_downloaded``;
- ``config``: the ``WARC_*`` settings, parsed once into ``WarcConfig``;
- ``state``: the crawl state beside the WARC files (validators, where each payload is archived),
  which makes revisits span files and runs;
- ``recover``: closing the ``.open`` files of a crawl that died, the crawl state brought in line.

The file format itself (records, writer, reader, checker) is the ``warc`` package.
"""
