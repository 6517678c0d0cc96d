"""Replay for researchers: index, serve, package and inspect an archive folder of WARC files.

Nothing here imports pywb at module level: pywb monkey-patches the interpreter with gevent on
import, so it only ever runs in a process of its own (``portal_archive.replay.server``).
See ``docs/replay.md``.
"""
