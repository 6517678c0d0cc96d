"""Generated sites for the crawl bench: a static Chinese news portal and the servers that serve it.

``portal`` writes the site (and the crawl profile that describes it) into a folder; ``servers``
serves that folder on 127.0.0.1 (nginx, or an in-memory asyncio server that can delay responses).
Generated sites live in temporary folders and are never committed.
"""
