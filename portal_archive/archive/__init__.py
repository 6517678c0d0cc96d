"""Archive: reading what was archived, for the report, replay and researchers.

- ``folder``: an archive folder's finished WARC files, and paths kept inside it;
- ``cdxj``: the folder's sorted CDXJ index (built after every crawl, read by bisection);
- ``indexing``: one file's CDXJ lines, as cdxj-indexer writes them, in parallel runs for a large file;
- ``records``: one capture found through the index: headers, HTTP head, payload, revisits resolved;
- ``metadata``: the article metadata record's schema (``portal-archive/article-metadata/1``);
- ``pages`` and ``sources``: article documents from archived pages, from the metadata record when
  the crawl wrote one, else by extracting the page again.
"""
