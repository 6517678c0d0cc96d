"""Lua scripts of the Redis near-duplicate index: every write that other workers must see whole.

Redis runs a script atomically, so each one below is a transaction: a document's URL, record, sketch
and band entries appear together, and a cluster merge relabels every member at once. Scripts take
the key prefix as ``ARGV[1]`` and compute the other key names themselves (a bucket depends on the
linear-hashing state read inside the script), so the index needs a single Redis server (or a
primary with replicas), not Redis Cluster. Layout: docs/dedup-redis.md.

Linear hashing keeps the band and URL maps in hashes of about ``SPLIT_LOAD`` to twice that many
entries, small enough for Redis's compact listpack encoding (up to 128 entries of up to 64 bytes by
default) at any index size: a bucket is addressed by the top bits of a 32-bit hash; once the map
holds more than ``SPLIT_LOAD`` entries per bucket, the next bucket in order is split in two, one
more bit deep. Numbers stay below 2**53, exact in Lua's doubles.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ADD",
    "BAND_VALUE_BYTES",
    "FIND_URL",
    "INIT",
    "INTERN",
    "JOIN",
    "RECORDS_PER_BUCKET",
    "SAVE_CLUSTER",
    "SLOT_STRING_BYTES",
    "SPLIT_LOAD",
]

SPLIT_LOAD: Final = 48
"""Entries per bucket at which the next bucket splits: buckets then hold 48-96 on average."""
BAND_VALUE_BYTES: Final = 48
"""Longest comma-separated id list kept in a band entry; longer ones move to a set (``bo:``)."""
RECORDS_PER_BUCKET: Final = 128
"""Documents per record hash (``d:``), cluster-label hash (``m:``) and pair hash (``p:``)."""
SLOT_STRING_BYTES: Final = 65530
"""Size of a string of fixed-size slots (sketches, signatures): with its header it fills a 64 KiB
allocation exactly."""

_COMMON: Final = f"""
local P = ARGV[1]
local SPLIT_LOAD = {SPLIT_LOAD}

local POW = {{}}
for i = 0, 32 do POW[i] = 2 ^ i end

local function lh_state(name)
  local s = redis.call('HMGET', P .. 'lh:' .. name, 'level', 'split', 'entries')
  local st = {{level = tonumber(s[1]) or 0, split = tonumber(s[2]) or 0, entries = tonumber(s[3]) or 0}}
  st.names = {{}}
  for depth = st.level, st.level + 1 do st.names[depth] = P .. name .. ':' .. depth .. ':' end
  return st
end

-- The bucket of a 32-bit hash h and its depth (bits of h the bucket name holds).
local function lh_bucket(st, h)
  local level = st.level
  local p = math.floor(h / POW[32 - level])
  if p < st.split then
    level = level + 1
    p = math.floor(h / POW[32 - level])
  end
  return st.names[level] .. p, level
end

-- Band fields hold the hash bits below the bucket's depth: the next bit picks the child.
local function band_child(field, level)
  local f = tonumber(field)
  local half = POW[31 - level]
  if f >= half then return 1, f - half end
  return 0, f
end

-- URL fields are the 8-byte URL key itself: its top 32 bits pick the child.
local function url_child(field, level)
  local h = struct.unpack('>I', field)
  return math.floor(h / POW[31 - level]) % 2, field
end

local function lh_split(name, st, child)
  local level, split = st.level, st.split
  local old = st.names[level] .. split
  local flat = redis.call('HGETALL', old)
  local kids = {{{{}}, {{}}}}
  for i = 1, #flat, 2 do
    local side, field = child(flat[i], level)
    local t = kids[side + 1]
    t[#t + 1] = field
    t[#t + 1] = flat[i + 1]
  end
  for side = 0, 1 do
    local t = kids[side + 1]
    for start = 1, #t, 1000 do
      redis.call('HSET', st.names[level + 1] .. (2 * split + side), unpack(t, start, math.min(start + 999, #t)))
    end
  end
  redis.call('DEL', old)
  split = split + 1
  if split == POW[level] then
    level = level + 1
    split = 0
    st.names[level + 1] = P .. name .. ':' .. (level + 1) .. ':'
  end
  st.level, st.split = level, split
end

local function lh_grow(name, st, added, child)
  if added == 0 then return end
  st.entries = st.entries + added
  while st.entries > SPLIT_LOAD * (POW[st.level] + st.split) do
    lh_split(name, st, child)
  end
  redis.call('HSET', P .. 'lh:' .. name, 'level', st.level, 'split', st.split, 'entries', st.entries)
end

local function bucketed(name, id)
  return P .. name .. ':' .. math.floor(id / {RECORDS_PER_BUCKET}), id % {RECORDS_PER_BUCKET}
end
"""

INIT: Final = """
-- ARGV: prefix, name, value, name, value...: store the parameters unless an index is there.
local key = ARGV[1] .. 'params'
if #ARGV > 1 and redis.call('EXISTS', key) == 0 then
  redis.call('HSET', key, unpack(ARGV, 2))
end
return redis.call('HGETALL', key)
"""

ADD: Final = (
    _COMMON
    + f"""
-- ARGV: prefix, URL key (8 bytes), record, sketch, sketch slot bytes (0: variable size),
-- signature (may be empty), signature slot bytes, band keys (unsigned 32-bit)...
-- Returns {{id, stored, band value...}}: the band values are the ids already under each band key,
-- read before this document's id is added, so the caller never finds the document itself.
-- stored is 0 when the URL was indexed before (nothing written).
local url_key, record = ARGV[2], ARGV[3]
local FIRST_BAND = 8

local function store_blob(name, id, blob, slot)
  if slot > 0 then
    local per = math.floor({SLOT_STRING_BYTES} / slot)
    local key = P .. name .. ':' .. math.floor(id / per)
    if redis.call('EXISTS', key) == 0 then
      redis.call('SET', key, string.rep('\\0', per * slot))
    end
    redis.call('SETRANGE', key, (id % per) * slot, blob)
  else
    local key, field = bucketed(name .. 'x', id)
    redis.call('HSET', key, field, blob)
  end
end

local ust = lh_state('u')
local ukey = lh_bucket(ust, (struct.unpack('>I', url_key)))
local existing = redis.call('HGET', ukey, url_key)
local bst = lh_state('b')
local out = {{}}

local function band_value(i, write_id)
  local h = tonumber(ARGV[i])
  local key, level = lh_bucket(bst, h)
  local field = h % POW[32 - level]
  -- Most band keys are new: one HSETNX both finds that out and writes the entry.
  if write_id and redis.call('HSETNX', key, field, write_id) == 1 then
    out[#out + 1] = ''
    return 1
  end
  local v = redis.call('HGET', key, field)
  local overflow = P .. 'bo:' .. ARGV[i]
  if v == '*' then
    out[#out + 1] = table.concat(redis.call('SMEMBERS', overflow), ',')
    if write_id then redis.call('SADD', overflow, write_id) end
    return 0
  end
  out[#out + 1] = v or ''
  if not write_id then return 0 end
  local joined = v .. ',' .. write_id
  if #joined > {BAND_VALUE_BYTES} then
    local ids = {{}}
    for x in string.gmatch(joined, '%d+') do ids[#ids + 1] = x end
    for start = 1, #ids, 1000 do
      redis.call('SADD', overflow, unpack(ids, start, math.min(start + 999, #ids)))
    end
    redis.call('HSET', key, field, '*')
  else
    redis.call('HSET', key, field, joined)
  end
  return 0
end

if existing then
  local id = tonumber(existing)
  local key, field = bucketed('d', id)
  local stored = redis.call('HGET', key, field)
  if not stored or string.sub(stored, 1, 4) ~= string.sub(record, 1, 4) then
    return {{id, 0}}
  end
  -- This very document, sent again after its reply was lost: answer as the first time did.
  for i = FIRST_BAND, #ARGV do band_value(i, false) end
  table.insert(out, 1, 1)
  table.insert(out, 1, id)
  return out
end

local id = redis.call('INCR', P .. 'docs')
redis.call('HSET', ukey, url_key, id)
lh_grow('u', ust, 1, url_child)
local rkey, rfield = bucketed('d', id)
redis.call('HSET', rkey, rfield, record)
store_blob('s', id, ARGV[4], tonumber(ARGV[5]))
if ARGV[6] ~= '' then store_blob('g', id, ARGV[6], tonumber(ARGV[7])) end
local added = 0
for i = FIRST_BAND, #ARGV do added = added + band_value(i, id) end
lh_grow('b', bst, added, band_child)
table.insert(out, 1, 1)
table.insert(out, 1, id)
return out
"""
)

FIND_URL: Final = (
    _COMMON
    + """
-- ARGV: prefix, URL key (8 bytes). Returns the document id or nil.
local ust = lh_state('u')
return redis.call('HGET', (lh_bucket(ust, (struct.unpack('>I', ARGV[2])))), ARGV[2])
"""
)

INTERN: Final = """
-- ARGV: prefix, WARC file name. Returns its number, giving it one on first use.
local P = ARGV[1]
local id = redis.call('HGET', P .. 'w', ARGV[2])
if id then return tonumber(id) end
id = redis.call('INCR', P .. 'wc')
redis.call('HSET', P .. 'w', ARGV[2], id)
redis.call('HSET', P .. 'wn', id, ARGV[2])
return id
"""

JOIN: Final = (
    _COMMON
    + """
-- ARGV: prefix, n, n times (pair hash, pair field, pair value), document ids... Records the verified
-- pairs and puts the documents in one cluster, merging the clusters they are in, by the rule of
-- base.merge_clusters: the smallest of the documents' ids and their clusters' ids names the cluster;
-- every member of the other clusters and every document in none is relabelled with it, and the
-- other clusters' stored originals are dropped. Returns {cluster id, created (1/0), merged ids
-- ascending...}.
local n = tonumber(ARGV[2])
for i = 0, n - 1 do
  redis.call('HSET', P .. ARGV[3 + 3 * i], ARGV[4 + 3 * i], ARGV[5 + 3 * i])
end
local ids, clusters, seen, loose = {}, {}, {}, {}
for i = 3 + 3 * n, #ARGV do ids[#ids + 1] = tonumber(ARGV[i]) end
local target = math.huge
for _, id in ipairs(ids) do
  local key, field = bucketed('m', id)
  local c = redis.call('HGET', key, field)
  if c then
    c = tonumber(c)
    if not seen[c] then
      seen[c] = true
      clusters[#clusters + 1] = c
    end
    target = math.min(target, c)
  else
    loose[#loose + 1] = id
  end
  target = math.min(target, id)
end
local members_key = P .. 'c:' .. target
local merged = {}
for _, c in ipairs(clusters) do
  if c ~= target then
    local members = redis.call('SMEMBERS', P .. 'c:' .. c)
    for _, m in ipairs(members) do
      local key, field = bucketed('m', tonumber(m))
      redis.call('HSET', key, field, target)
    end
    for start = 1, #members, 1000 do
      redis.call('SADD', members_key, unpack(members, start, math.min(start + 999, #members)))
    end
    redis.call('DEL', P .. 'c:' .. c)
    redis.call('ZREM', P .. 'cl', c)
    redis.call('HDEL', P .. 'cr', c)
    merged[#merged + 1] = c
  end
end
for _, id in ipairs(loose) do
  local key, field = bucketed('m', id)
  redis.call('HSET', key, field, target)
  redis.call('SADD', members_key, id)
end
redis.call('ZADD', P .. 'cl', target, target)
table.sort(merged)
local out = {target, #clusters == 0 and 1 or 0}
for _, c in ipairs(merged) do out[#out + 1] = c end
return out
"""
)

SAVE_CLUSTER: Final = """
-- ARGV: prefix, cluster id, row. Stores the row only while the cluster exists: a worker that lost
-- a race with a merge must not bring a merged cluster's row back.
local P = ARGV[1]
if redis.call('ZSCORE', P .. 'cl', ARGV[2]) then
  redis.call('HSET', P .. 'cr', ARGV[2], ARGV[3])
  return 1
end
return 0
"""
