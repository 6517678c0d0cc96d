"""Replay for researchers: serve, package and inspect an archive folder of WARC files.

``launcher``, ``server``, ``pywb_app`` and ``pywbenv`` run pywb over the folder in place; ``wacz``
packages it (with ``page_list``, its article list) for ReplayWeb.page; ``show`` prints what the
archive holds for one URL. Reading the folder (its index, records and article metadata) is the
``portal_archive.archive`` package's; the commands are ``portal_archive.cli.archive``.

Nothing here imports pywb at module level: pywb monkey-patches the interpreter with gevent on
import, so it only ever runs in a process of its own (``portal_archive.replay.server``).
See ``docs/replay.md``.
"""
