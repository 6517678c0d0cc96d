"""The parts of article extraction, one concern per module.

``portal_archive.extraction`` is the public entry point; these modules are its parts:

- ``charset``: bytes to text (header, ``<meta>``, BOM, detection, mojibake repair);
- ``dom``: parse, drop scripts and hidden elements, cut the page into text blocks;
- ``text``: punctuation and script counts of a block's text;
- ``lexicon``: the words pages use to announce boilerplate, bylines, sources and dates;
- ``lines``: single lines that are boilerplate by their wording;
- ``scoring``: block values and the choice of the article container;
- ``boilerplate``: every block's role (body, a labelled boilerplate kind, a metadata line);
- ``metadata``: title, canonical URL and machine-readable dates from ``<head>``;
- ``dates``: absolute dates read as Asia/Shanghai time.
"""
