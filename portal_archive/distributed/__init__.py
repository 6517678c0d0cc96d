"""Distributed crawling: many workers, on one machine or several, share one frontier on Redis.

Off unless ``DISTRIBUTED_REDIS_URL`` is set: then ``DistributedAddon`` (in ``ADDONS``) puts any
portal spider on scrapy-redis, with a reliable request queue, a shared duplicate filter and the
start URLs read from Redis. Nothing in this package imports redis or scrapy-redis until a
component is built with the switch on, so the project runs without them.

Modules: ``config`` (the ``DISTRIBUTED_*`` settings), ``addon`` (the switch), ``frontier`` (the
queue's Redis layout and Lua scripts), ``queue``, ``scheduler``, ``dupefilter``, ``codec`` and
``start`` (the scrapy-redis components), ``hooks`` (where Scrapy tells when a request is done),
``seeding`` and ``worker`` (what ``portal-archive dist``, in ``portal_archive.cli.dist``, runs). See
``docs/distributed.md``.
"""
