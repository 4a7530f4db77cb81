//! The Lua scripts of the shared message log and directory (keys: see [`super::keys`]); each
//! runs atomically in Redis.

/// A Lua function reading message `id` of a room in its current state: `{json, rev}` or nil.
/// KEYS: stream, state hash, changes set (as in every script below that uses it).
pub(super) const READ_ONE: &str = r"
local function read_one(id)
  local state = redis.call('HGET', KEYS[2], id)
  if state then
    return {state, redis.call('ZSCORE', KEYS[3], id)}
  end
  local found = redis.call('XRANGE', KEYS[1], id .. '-0', id .. '-0')
  if found[1] then
    local fields, json, rev = found[1][2], nil, '0'
    for i = 1, #fields, 2 do
      if fields[i] == 'm' then json = fields[i + 1] elseif fields[i] == 'v' then rev = fields[i + 1] end
    end
    return {json, rev}
  end
  return nil
end
";

/// Next id and change number, room stream and feed in one step; a known (author, client id)
/// returns the stored message instead. KEYS: stream, state, changes, seq, rev, feed.
/// Returns `{duplicate (0/1), id, json, rev}`.
pub(super) const APPEND: &str = r"
local dedupe = ARGV[2]
if dedupe ~= '' then
  local seen = redis.call('GET', dedupe)
  if seen then
    local found = read_one(seen)
    if found then
      return {1, seen, found[1], found[2]}
    end
  end
end
local id = redis.call('INCR', KEYS[4])
local rev = redis.call('INCR', KEYS[5])
redis.call('XADD', KEYS[1], id .. '-0', 'm', ARGV[1], 'v', rev)
redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[4], '*', 'r', ARGV[3], 'i', id, 'v', rev, 'm', ARGV[1])
if dedupe ~= '' then
  redis.call('SET', dedupe, id, 'EX', ARGV[5])
end
return {0, tostring(id), ARGV[1], tostring(rev)}
";

/// Messages `lo..=hi` of a room in their current state (`hi` clamped to the room's last id;
/// with `ARGV[3]` > 0, the last that many instead). KEYS: stream, state, changes, seq.
/// Returns `{id, json, rev, ...}`.
pub(super) const READ: &str = r"
local last = tonumber(redis.call('GET', KEYS[4]) or '0')
local lo, hi, count = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if count > 0 then hi = last; lo = last - count + 1 end
if hi > last then hi = last end
if lo < 1 then lo = 1 end
local out = {}
if hi < lo then return out end
local posted = {}
for _, entry in ipairs(redis.call('XRANGE', KEYS[1], lo .. '-0', hi .. '-0')) do
  posted[entry[1]] = entry[2]
end
local changed = redis.call('HLEN', KEYS[2]) > 0
for id = lo, hi do
  local state = changed and redis.call('HGET', KEYS[2], id)
  if state then
    out[#out + 1] = tostring(id); out[#out + 1] = state
    out[#out + 1] = redis.call('ZSCORE', KEYS[3], id)
  else
    local fields = posted[id .. '-0']
    if fields then
      local json, rev = nil, '0'
      for i = 1, #fields, 2 do
        if fields[i] == 'm' then json = fields[i + 1] elseif fields[i] == 'v' then rev = fields[i + 1] end
      end
      out[#out + 1] = tostring(id); out[#out + 1] = json; out[#out + 1] = rev
    end
  end
end
return out
";

/// Stores a message's new state if it is still at the change number the caller read (else
/// returns -1: read again), with the room's next change number, and puts it on the feed;
/// a deletion also removes the posted entry, so the text is gone. KEYS: stream, state,
/// changes, rev, feed. ARGV: id, expected rev, json, room, feed length, deleted (0/1).
pub(super) const ALTER: &str = r"
local id = ARGV[1]
local current = read_one(id)
if not current then return -2 end
if current[2] ~= ARGV[2] then return -1 end
local rev = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[2], id, ARGV[3])
redis.call('ZADD', KEYS[3], rev, id)
if ARGV[6] == '1' then redis.call('XDEL', KEYS[1], id .. '-0') end
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[5], '*', 'r', ARGV[4], 'i', id, 'v', rev, 'u', '1', 'm', ARGV[3])
return rev
";

/// Up to `ARGV[3]` changed messages with change numbers above `ARGV[1]` and ids up to
/// `ARGV[2]`, in change order (scanning a bounded number of entries). KEYS: state, changes.
/// Returns `{id, json, rev, ...}`.
pub(super) const CHANGED: &str = r"
local since, upto, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
for _ = 1, 20 do
  local batch = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. since, '+inf', 'WITHSCORES', 'LIMIT', 0, 200)
  if #batch == 0 then break end
  for i = 1, #batch, 2 do
    since = batch[i + 1]
    if tonumber(batch[i]) <= upto then
      out[#out + 1] = batch[i]; out[#out + 1] = redis.call('HGET', KEYS[1], batch[i]); out[#out + 1] = since
      if #out >= limit * 3 then return out end
    end
  end
end
return out
";

/// Retention for one room: removes the messages posted before `ARGV[1]` (ms), oldest first,
/// with their current state and change entries; the room's newest message (id = the room's
/// last id) is erased in place instead, so ids go on from it. KEYS: stream, state, changes,
/// seq. Returns how many went.
pub(super) const EXPIRE_ROOM: &str = r"
local before = tonumber(ARGV[1])
local last = redis.call('GET', KEYS[4]) or '0'
local gone = 0
local function drop_or_erase(id, entry_id, m, rev)
  if id ~= last then
    if entry_id then redis.call('XDEL', KEYS[1], entry_id) end
    redis.call('HDEL', KEYS[2], id)
    redis.call('ZREM', KEYS[3], id)
    gone = gone + 1
  elseif not m.deleted then
    m.message = ''; m.deleted = true; m.reactions = nil; m.edited = nil
    redis.call('HSET', KEYS[2], id, cjson.encode(m))
    redis.call('ZADD', KEYS[3], rev, id)
    gone = gone + 1
  end
end
local start = '-'
local done = false
while not done do
  local entries = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', 200)
  if #entries == 0 then break end
  for _, entry in ipairs(entries) do
    local id = string.match(entry[1], '^(%d+)')
    local fields, json, rev = entry[2], nil, '0'
    for i = 1, #fields, 2 do
      if fields[i] == 'm' then json = fields[i + 1] elseif fields[i] == 'v' then rev = fields[i + 1] end
    end
    local state = redis.call('HGET', KEYS[2], id)
    if state then rev = redis.call('ZSCORE', KEYS[3], id) or rev end
    local m = cjson.decode(state or json)
    if m.ts >= before then done = true; break end
    drop_or_erase(id, entry[1], m, rev)
  end
  start = '(' .. entries[#entries][1]
end
-- Deleted messages live only in the state hash.
for _, id in ipairs(redis.call('HKEYS', KEYS[2])) do
  local m = cjson.decode(redis.call('HGET', KEYS[2], id))
  if m.deleted and m.ts < before and id ~= last then
    drop_or_erase(id, nil, m, '0')
  end
end
return gone
";

/// Gives an identity its name unless it has one or the name is someone else's.
pub(super) const REMEMBER: &str = r"
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 'had' end
if held_anonymously(KEYS[4], ARGV[5], ARGV[4]) then return 'taken' end
if redis.call('SADD', KEYS[2], ARGV[5]) == 0 then return 'taken' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[3])
redis.call('ZADD', KEYS[5], ARGV[4], ARGV[1])
return 'ok'
";

/// Renames a named person unless the new name's key is held by anyone else (remembered, or
/// an anonymous connection of a live node), and puts the rename on the feed for every node.
/// KEYS: users, names, nodes, feed. ARGV: user, new name, new key, old key, now, public id,
/// feed length. Returns 'ok' or 'taken'.
pub(super) const RENAME: &str = r"
if ARGV[3] ~= ARGV[4] then
  if redis.call('SISMEMBER', KEYS[2], ARGV[3]) == 1 then return 'taken' end
  if held_anonymously(KEYS[3], ARGV[3], ARGV[5]) then return 'taken' end
  redis.call('SADD', KEYS[2], ARGV[3])
  redis.call('SREM', KEYS[2], ARGV[4])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[7], '*', 'n', ARGV[6], 'name', ARGV[2])
return 'ok'
";

/// A Lua function: whether `name` is held by an anonymous connection on a node alive at
/// `now` (nodes: the nodes' sorted set).
pub(super) const HELD_ANONYMOUSLY: &str = r"
local function held_anonymously(nodes, name, now)
  for _, node in ipairs(redis.call('ZRANGEBYSCORE', nodes, '(' .. now, '+inf')) do
    if redis.call('SISMEMBER', node_names_key(node), name) == 1 then return true end
  end
  return false
end
";

/// Holds a name for an anonymous connection of this node, unless a remembered person or a
/// live node's anonymous connection has it. KEYS: names, nodes, this node's names.
/// ARGV: name, now. Returns 1 when held.
pub(super) const HOLD: &str = r"
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return 0 end
if held_anonymously(KEYS[2], ARGV[1], ARGV[2]) then return 0 end
redis.call('SADD', KEYS[3], ARGV[1])
return 1
";

/// Forgets people last seen before ARGV[1]: ARGV[2..] are pairs of user key and public id.
/// KEYS: users, names, people, seen. Returns the names that became free (the caller frees
/// their keys in `names`: Lua cannot fold names).
pub(super) const FORGET_UNSEEN: &str = r"
local freed = {}
for i = 2, #ARGV, 2 do
  local user, id = ARGV[i], ARGV[i + 1]
  local seen = redis.call('ZSCORE', KEYS[4], user)
  if seen and tonumber(seen) < tonumber(ARGV[1]) then
    local name = redis.call('HGET', KEYS[1], user)
    redis.call('HDEL', KEYS[1], user)
    redis.call('ZREM', KEYS[4], user)
    redis.call('SREM', KEYS[3], id)
    if name then freed[#freed + 1] = name end
  end
end
return freed
";
