"""The parts of article extraction, one concern per module.

``portal_archive.extraction`` is the public entry point; these modules are its parts:
``charset`` (bytes to text), ``dates`` (publication times), ``dom`` (parse, clean, cut the page
into text blocks), ``scoring`` (which blocks are the article), ``boilerplate`` (labelled blocks
that never reach the body) and ``metadata`` (title, byline, source, references).
"""
