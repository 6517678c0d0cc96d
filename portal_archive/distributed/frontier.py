"""The shared frontier on Redis: a priority queue that loses nothing when a worker dies.

scrapy-redis pops a request and forgets it: a worker killed with requests in hand loses them, and
their fingerprints are already in the duplicate filter, so nobody fetches them again. Here every
step that moves a request is one Lua script, so it happens whole or not at all:

- ``push``: the fingerprint joins the seen set *and* the request joins the queue (a crash between
  the two would lose the URL for good);
- ``pop``: the request moves from the queue into the worker's in-flight hash;
- ``mark_archived``: the response's WARC record is written and flushed; a request taken back
  from a dead worker is then fetched again as a revisit of that record, not archived twice;
- ``ack``: the response is fully handled (records flushed, item through the pipelines, new requests
  queued): the request is forgotten;
- heartbeats: each worker refreshes a key with a TTL; a live worker puts the in-flight requests of
  workers whose key expired back into the queue (``reclaim_dead``).

Layout, for ``BASE = PREFIX:SPIDER`` (one frontier per spider):

====================== ======= ===================================================================
key                    type    content
====================== ======= ===================================================================
``BASE:queue``         zset    entry id (12 digits) + serialized request (``codec``) or start-URL
                               data; score ``-priority`` (ties: in id order, FIFO)
``BASE:inflight:W``    hash    entry id -> score, a space, and the queue member, for worker ``W``
``BASE:archived``      hash    entry id -> JSON of the WARC record already written for it
``BASE:startfp``       hash    entry id -> fingerprint, for start URLs (checked when popped)
``BASE:seen``          set     request fingerprints (20 bytes, Scrapy's fingerprinter)
``BASE:start_urls``    list    start-URL data (scrapy-redis's format: a URL or JSON)
``BASE:workers``       hash    worker -> last heartbeat (ms since the epoch)
``BASE:alive:W``       string  worker ``W``'s heartbeat, with a TTL
``BASE:acked``         hash    worker -> requests it has handled
``BASE:seq``           string  the last entry id given out
====================== ======= ===================================================================

Scripts touch keys they compute from ``BASE``, which a standalone Redis (or a replicated one)
allows and Redis Cluster does not. Redis 6.2 or later (``ZPOPMIN``, ``SET … NX PX``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["Entry", "Frontier", "FrontierStatus", "Pending", "WorkerIdInUse", "WorkerStatus"]

ID_DIGITS: Final = 12

_PUSH: Final = """
local base = ARGV[1]
local out = {}
for i = 2, #ARGV, 3 do
  local fp, score, payload = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if fp == '' or redis.call('SADD', base .. ':seen', fp) == 1 then
    local id = string.format('%012d', redis.call('INCR', base .. ':seq'))
    redis.call('ZADD', base .. ':queue', score, id .. payload)
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
"""

_POP: Final = """
local base, worker, count, ttl, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
redis.call('SET', base .. ':alive:' .. worker, now, 'PX', ttl)
redis.call('HSET', base .. ':workers', worker, now)
local out = {}
for _ = 1, count do
  local popped = redis.call('ZPOPMIN', base .. ':queue')
  if #popped == 0 then break end
  local member, score = popped[1], popped[2]
  local id = string.sub(member, 1, 12)
  redis.call('HSET', base .. ':inflight:' .. worker, id, score .. ' ' .. member)
  out[#out + 1] = id
  out[#out + 1] = string.sub(member, 13)
  out[#out + 1] = redis.call('HGET', base .. ':archived', id) or ''
end
return out
"""

_ACK: Final = """
local base, worker = ARGV[1], ARGV[2]
local lost = 0
for i = 3, #ARGV do
  local member = ARGV[i]
  local id = string.sub(member, 1, 12)
  if redis.call('HDEL', base .. ':inflight:' .. worker, id) == 0 then
    -- taken back while this worker looked dead: done now, so out of the queue again
    lost = lost + 1
    redis.call('ZREM', base .. ':queue', member)
  end
  redis.call('HDEL', base .. ':archived', id)
  redis.call('HDEL', base .. ':startfp', id)
end
redis.call('HINCRBY', base .. ':acked', worker, #ARGV - 2)
return lost
"""

_MARK: Final = """
local base, worker, id, info = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('HEXISTS', base .. ':inflight:' .. worker, id) == 0 then return 0 end
return redis.call('HSETNX', base .. ':archived', id, info)
"""

_START_SEEN: Final = """
local base, id, fp = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', base .. ':startfp', id) == fp then return 1 end
if redis.call('SADD', base .. ':seen', fp) == 0 then return 0 end
redis.call('HSET', base .. ':startfp', id, fp)
return 1
"""

_REQUEUE: Final = """
local function requeue(base, worker)
  local key = base .. ':inflight:' .. worker
  local entries = redis.call('HGETALL', key)
  for i = 2, #entries, 2 do
    local value = entries[i]
    local space = string.find(value, ' ', 1, true)
    redis.call('ZADD', base .. ':queue', string.sub(value, 1, space - 1), string.sub(value, space + 1))
  end
  redis.call('DEL', key)
  return #entries / 2
end
"""

_CLAIM: Final = (
    _REQUEUE
    + """
local base, worker, ttl, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if not redis.call('SET', base .. ':alive:' .. worker, now, 'NX', 'PX', ttl) then return -1 end
redis.call('HSET', base .. ':workers', worker, now)
return requeue(base, worker)
"""
)

_LEAVE: Final = (
    _REQUEUE
    + """
local base, worker = ARGV[1], ARGV[2]
local moved = requeue(base, worker)
redis.call('DEL', base .. ':alive:' .. worker)
redis.call('HDEL', base .. ':workers', worker)
return moved
"""
)

_REQUEUE_OWN: Final = (
    _REQUEUE
    + """
return requeue(ARGV[1], ARGV[2])
"""
)

_RECLAIM: Final = (
    _REQUEUE
    + """
local base, me = ARGV[1], ARGV[2]
local out = {0}
for _, worker in ipairs(redis.call('HKEYS', base .. ':workers')) do
  if worker ~= me and redis.call('EXISTS', base .. ':alive:' .. worker) == 0 then
    out[1] = out[1] + requeue(base, worker)
    redis.call('HDEL', base .. ':workers', worker)
    out[#out + 1] = worker
  end
end
return out
"""
)

_HEARTBEAT: Final = """
local base, worker, ttl, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call('SET', base .. ':alive:' .. worker, now, 'PX', ttl)
redis.call('HSET', base .. ':workers', worker, now)
return 1
"""

_ADOPT_START: Final = """
local base, count = ARGV[1], tonumber(ARGV[2])
local items = redis.call('LRANGE', base .. ':start_urls', 0, count - 1)
if #items == 0 then return 0 end
redis.call('LTRIM', base .. ':start_urls', #items, -1)
for _, item in ipairs(items) do
  local score = 0
  local ok, data = pcall(cjson.decode, item)
  if ok and type(data) == 'table' and tonumber(data['priority']) then score = -tonumber(data['priority']) end
  local id = string.format('%012d', redis.call('INCR', base .. ':seq'))
  redis.call('ZADD', base .. ':queue', score, id .. item)
end
return #items
"""

_PENDING: Final = """
local base = ARGV[1]
local inflight = 0
for _, worker in ipairs(redis.call('HKEYS', base .. ':workers')) do
  inflight = inflight + redis.call('HLEN', base .. ':inflight:' .. worker)
end
return {redis.call('ZCARD', base .. ':queue'), redis.call('LLEN', base .. ':start_urls'), inflight,
        redis.call('EXISTS', base .. ':seq')}
"""


class WorkerIdInUse(RuntimeError):
    """Another live worker already uses this worker id."""


@dataclass(frozen=True)
class Entry:
    """A request taken from the queue: its id, its bytes, and the record already archived for it."""

    id: str
    payload: bytes
    archived: bytes = b""

    @property
    def member(self) -> bytes:
        """The entry as the queue holds it: id, then payload."""
        return self.id.encode("ascii") + self.payload


@dataclass(frozen=True)
class Pending:
    """Work left anywhere in the frontier."""

    queued: int
    start_urls: int
    in_flight: int
    started: bool = True
    """Anything was ever queued here (a frontier never seeded is worth waiting for)."""

    @property
    def total(self) -> int:
        return self.queued + self.start_urls + self.in_flight


@dataclass(frozen=True)
class WorkerStatus:
    """One worker as the frontier sees it."""

    worker: str
    alive: bool
    in_flight: int
    acked: int
    last_seen_ms: int | None


@dataclass(frozen=True)
class FrontierStatus:
    """What ``portal-archive dist status`` prints for one spider."""

    base: str
    queued: int
    start_urls: int
    seen: int
    workers: list[WorkerStatus] = field(default_factory=list)

    @property
    def in_flight(self) -> int:
        return sum(worker.in_flight for worker in self.workers)


def score_text(score: float) -> str:
    """A queue score as Redis reads it (``-0.0`` made ``0``; integral scores without a fraction)."""
    value = float(score) + 0.0
    return str(int(value)) if value.is_integer() else repr(value)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


class Frontier:
    """One spider's frontier as seen by one worker (``worker`` may be empty for read-only tools)."""

    def __init__(self, client: Redis, base: str, worker: str = "", *, ttl: float = 30.0) -> None:
        # redis-py types each command as "sync or async" (one class serves both): Any here.
        self.client: Any = client
        self.base = base
        self.worker = worker
        self.ttl_ms = max(1, int(ttl * 1000))
        register = client.register_script
        self._push = register(_PUSH)
        self._pop = register(_POP)
        self._ack = register(_ACK)
        self._mark = register(_MARK)
        self._start_seen = register(_START_SEEN)
        self._claim = register(_CLAIM)
        self._leave = register(_LEAVE)
        self._requeue_own = register(_REQUEUE_OWN)
        self._reclaim = register(_RECLAIM)
        self._heartbeat = register(_HEARTBEAT)
        self._adopt_start = register(_ADOPT_START)
        self._pending = register(_PENDING)

    def key(self, name: str) -> str:
        """The full name of one of this frontier's keys (``queue``, ``seen``, ``inflight:W`` …)."""
        return f"{self.base}:{name}"

    # -- requests ------------------------------------------------------------------------------

    def push(self, items: Sequence[tuple[bytes | None, float, bytes]]) -> list[bool]:
        """Queue ``(fingerprint or None, score, payload)`` items; False for a fingerprint seen before.

        The score is ``-priority``: lower scores are popped first.
        """
        if not items:
            return []
        args: list[Any] = [self.base]
        for fingerprint, score, payload in items:
            args += [fingerprint or b"", score_text(score), payload]
        return [bool(flag) for flag in self._push(args=args)]

    def pop(self, count: int = 1) -> list[Entry]:
        """Move up to ``count`` requests into this worker's in-flight hash (also a heartbeat)."""
        reply = self._pop(args=[self.base, self.worker, count, self.ttl_ms, _now_ms()])
        return [
            Entry(_text(reply[i]), bytes(reply[i + 1]), bytes(reply[i + 2] or b"")) for i in range(0, len(reply), 3)
        ]

    def ack(self, entries: Iterable[Entry]) -> int:
        """Forget handled requests; returns how many had been taken back meanwhile (this worker looked dead)."""
        members = [entry.member for entry in entries]
        if not members:
            return 0
        return int(self._ack(args=[self.base, self.worker, *members]))

    def mark_archived(self, entry_id: str, info: bytes) -> bool:
        """Remember the WARC record written for an in-flight request (the first one is kept)."""
        return bool(self._mark(args=[self.base, self.worker, entry_id, info]))

    def start_seen(self, entry_id: str, fingerprint: bytes) -> bool:
        """Whether a start URL taken as entry ``entry_id`` is new (True again for the same entry)."""
        return bool(self._start_seen(args=[self.base, entry_id, fingerprint]))

    # -- start URLs ----------------------------------------------------------------------------

    def push_start(self, items: Sequence[bytes]) -> int:
        """Append start-URL data to the start list; returns its new length."""
        if not items:
            return int(self.client.llen(self.key("start_urls")))
        return int(self.client.rpush(self.key("start_urls"), *items))

    def adopt_start(self, count: int) -> int:
        """Move up to ``count`` start URLs from the start list into the queue, atomically."""
        return int(self._adopt_start(args=[self.base, count]))

    # -- workers -------------------------------------------------------------------------------

    def claim_worker(self) -> int:
        """Register this worker; returns how many requests its previous life left in flight (queued again).

        Raises:
            WorkerIdInUse: a live worker has this id.
        """
        moved = int(self._claim(args=[self.base, self.worker, self.ttl_ms, _now_ms()]))
        if moved < 0:
            raise WorkerIdInUse(
                f"worker id {self.worker!r} is in use by a live worker of {self.base} (its heartbeat is younger than "
                f"{self.ttl_ms / 1000:g} s): give this worker another DISTRIBUTED_WORKER_ID"
            )
        return moved

    def heartbeat(self) -> None:
        """Tell the others this worker is alive."""
        self._heartbeat(args=[self.base, self.worker, self.ttl_ms, _now_ms()])

    def reclaim_dead(self) -> tuple[int, list[str]]:
        """Queue again the in-flight requests of workers whose heartbeat expired: ``(requests, workers)``."""
        reply = self._reclaim(args=[self.base, self.worker])
        return int(reply[0]), [_text(worker) for worker in reply[1:]]

    def requeue_own(self) -> int:
        """Queue again every request this worker holds in flight; returns how many."""
        return int(self._requeue_own(args=[self.base, self.worker]))

    def leave(self) -> int:
        """Unregister this worker, queueing its unfinished requests again; returns how many."""
        return int(self._leave(args=[self.base, self.worker]))

    # -- reading -------------------------------------------------------------------------------

    def pending(self) -> Pending:
        """Queued requests, waiting start URLs and requests in flight at any registered worker."""
        queued, start_urls, in_flight, started = self._pending(args=[self.base])
        return Pending(int(queued), int(start_urls), int(in_flight), bool(started))

    def queue_length(self) -> int:
        return int(self.client.zcard(self.key("queue")))

    def status(self) -> FrontierStatus:
        """A snapshot for people: queue, start list, seen set, and every registered worker."""
        workers = {_text(k): int(v) for k, v in self.client.hgetall(self.key("workers")).items()}
        acked = {_text(k): int(v) for k, v in self.client.hgetall(self.key("acked")).items()}
        rows = []
        for worker in sorted(set(workers) | set(acked)):
            rows.append(
                WorkerStatus(
                    worker=worker,
                    alive=bool(self.client.exists(self.key(f"alive:{worker}"))),
                    in_flight=int(self.client.hlen(self.key(f"inflight:{worker}"))),
                    acked=acked.get(worker, 0),
                    last_seen_ms=workers.get(worker),
                )
            )
        return FrontierStatus(
            base=self.base,
            queued=self.queue_length(),
            start_urls=int(self.client.llen(self.key("start_urls"))),
            seen=int(self.client.scard(self.key("seen"))),
            workers=rows,
        )

    def clear(self) -> int:
        """Delete every key of this frontier (a fresh crawl); returns how many keys went."""
        keys = list(self.client.scan_iter(match=f"{self.base}:*", count=1000))
        return int(self.client.delete(*keys)) if keys else 0


def spiders_with_frontiers(client: Redis, prefix: str) -> list[str]:
    """Spider names that have a frontier under ``prefix`` (for ``dist status`` without a name)."""
    names = set()
    for key in client.scan_iter(match=f"{prefix}:*:seq", count=1000):
        names.add(_text(key)[len(prefix) + 1 : -len(":seq")])
    for key in client.scan_iter(match=f"{prefix}:*:start_urls", count=1000):
        names.add(_text(key)[len(prefix) + 1 : -len(":start_urls")])
    return sorted(names)
