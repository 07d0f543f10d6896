"""The Redis side of a shared limit: two atomic Lua scripts over one hash per limit,
and the cut the second makes, in Python.

The hash ``KEYS[1]`` holds the fleet's adaptive state (``mode`` u/s/h for
unthrottled, searching, holding; ``rate``, ``plateau``, ``k``, ``epoch``,
``clock``, ``active``, ``grown``: as in ``_control``; ``gok``: successes
since ``grown``), the pacing schedule
(``tat``: the theoretical arrival time of the next free slot, GCRA), the last
cut (``cut``, ``gen``: bumped on every cut), the counts since the last cut
(``rok``, ``rthr``), ``srtt`` and a 2-second window of counts in four
half-second buckets (``w<i>s`` bucket number, ``w<i>o`` successes, ``w<i>t``
429s). Times are Redis's own clock (``TIME``); callers pass durations, never
their clock. ``seen`` is that clock at the last call: one now behind it has
stepped back (NTP, a failover to a replica whose clock lags), and the stored
times move back with it. Every call refreshes the hash's TTL: a limit nobody
uses expires.

``LEASE`` hands out up to ``want`` consecutive slots of the shared schedule
(never more than ``lease_time`` seconds' worth, never more than ``max_ahead``
seconds ahead): the caller spends them locally, so most requests cost no
Redis call. A new limit starts unthrottled, or searching at ``start_rate``:
always, or once a second process asks within ``together`` seconds of the
limit's first use (``j1``, ``jt``: the first process to ask, and when).
``THROTTLE`` reports a 429 at once and makes the cut, the same decision as
``cut_rate`` here, in Python (tests compare the two).
"""

from __future__ import annotations

from ._tuning import Tuning

__all__ = ["LEASE", "THROTTLE", "cut_rate", "search_goes_on"]


def search_goes_on(got: float, base: float) -> bool:
    """Whether a 429 leaves the fleet's search going (as ``THROTTLE``): at least as
    many requests a second got through lately (``got``, counted from the search's
    start at most) as the search paces (``base``). The 429 is then not of the
    search's making: the first process's unpaced start, or a server's burst
    running out."""
    return got >= base


def cut_rate(
    base: float, short: float, long: float, tuning: Tuning, got: float = 0.0
) -> tuple[float, float]:
    """The fleet's rate after a 429 and the plateau to come back to (as ``THROTTLE``).

    ``base`` is the rate the throttled request went out at; ``short`` the share
    of the requests sent since the last cut that got through, ``long`` the same
    over the last two seconds. ``got`` is given at the end of the search (the
    first cut after the fleet's first 429): the successes per second of the
    last half second or more, counted from the search's start if later (where
    ``search_goes_on(got, base)``, the search's 429 makes no cut). The search's
    rate is a schedule that the processes fill late (their successes reach Redis
    with their next lease), so it can run far past the limit before a 429 comes:
    it ends at what got through, never below half ``base`` at once.
    The new rate is always below ``base``; the plateau is never below the new rate.
    """
    if 0.0 < got < base:
        new = max(got * tuning.headroom, base * tuning.backoff)
        plateau = got
    elif short < tuning.deep:
        # Far above the limit: go to what got through.
        new = base * max(short * tuning.headroom, tuning.backoff)
        plateau = base * short
    elif long >= 1.0 - tuning.tolerance:
        # Stray 429s among many successes (a server's own jitter): step back a
        # little and come back soon.
        new = base * tuning.headroom
        plateau = base
    else:
        new = base * tuning.decrease
        plateau = base * tuning.hold
    return new, max(plateau, new)


_PROLOGUE = """
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local names = {'mode', 'rate', 'plateau', 'k', 'epoch', 'clock', 'active', 'tat', 'cut',
  'gen', 'rok', 'rthr', 'srtt', 'grown', 'gok', 'j1', 'jt',
  'w0s', 'w0o', 'w0t', 'w1s', 'w1o', 'w1t', 'w2s', 'w2o', 'w2t', 'w3s', 'w3o', 'w3t', 'seen'}
local raw = redis.call('HMGET', key, unpack(names))
local s = {}
for i, name in ipairs(names) do s[name] = tonumber(raw[i]) or 0 end
s.mode = raw[1] or 'u'

-- Redis's clock stepped back: the stored times move back as far as it is
-- behind the last call, or the fleet would wait out the step (a schedule
-- ahead) and make no cut (a cut ahead of every 429).
local times = {'tat', 'cut', 'grown', 'active', 'jt'}
if s.seen > now then
  local step = s.seen - now
  for _, name in ipairs(times) do
    if s[name] > 0 then s[name] = s[name] - step end
  end
end
s.seen = now
-- Stored as the now of their call, they are never ahead of it, even in a hash
-- with no `seen` yet (the schedule's tat may be: LEASE bounds it).
for i = 2, #times do
  if s[times[i]] > now then s[times[i]] = now end
end

local function count(ok, thr, sample)
  local bucket = math.floor(now * 2)
  local slot = 'w' .. (bucket % 4)
  if s[slot .. 's'] ~= bucket then
    s[slot .. 's'] = bucket
    s[slot .. 'o'] = 0
    s[slot .. 't'] = 0
  end
  s[slot .. 'o'] = s[slot .. 'o'] + ok
  s[slot .. 't'] = s[slot .. 't'] + thr
  s.rok = s.rok + ok
  s.rthr = s.rthr + thr
  if sample > 0 then
    if s.srtt == 0 then s.srtt = sample else s.srtt = 0.875 * s.srtt + 0.125 * sample end
  end
end

local function window(buckets)
  local bucket = math.floor(now * 2)
  local ok, thr = 0, 0
  for i = 0, 3 do
    local b = s['w' .. i .. 's']
    if b > bucket - buckets and b <= bucket then
      ok = ok + s['w' .. i .. 'o']
      thr = thr + s['w' .. i .. 't']
    end
  end
  return ok, thr
end

local function clamp(x, lo, hi)
  if x < lo then return lo end
  if x > hi then return hi end
  return x
end

local function save(ttl)
  local flat = {}
  for _, name in ipairs(names) do
    flat[#flat + 1] = name
    if name == 'mode' then flat[#flat + 1] = s.mode
    else flat[#flat + 1] = string.format('%.17g', s[name]) end
  end
  redis.call('HSET', key, unpack(flat))
  redis.call('PEXPIRE', key, ttl)
end
"""

LEASE = (
    _PROLOGUE
    + """
local want = tonumber(ARGV[1])
local ok, thr = tonumber(ARGV[2]), tonumber(ARGV[3])
local sample, saturated = tonumber(ARGV[4]), tonumber(ARGV[5])
local min_rate, max_rate = tonumber(ARGV[6]), tonumber(ARGV[7])
local lease_time, max_ahead, ttl = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local search_time, cycle, rtts = tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
local scale, probe_scale = tonumber(ARGV[14]), tonumber(ARGV[15])
local max_unit, max_step = tonumber(ARGV[16]), tonumber(ARGV[17])
local start_rate, together, member = tonumber(ARGV[18]), tonumber(ARGV[19]), tonumber(ARGV[20])

count(ok, thr, sample)
if s.mode == 'u' then
  -- Unpaced, each process learns of the fleet's first 429 only from a 429 of
  -- its own, and all of their requests in flight then meet one. So a fleet
  -- searches from start_rate at once: always, or (together > 0) once another
  -- process asks within `together` seconds of the limit's first use, a fleet
  -- starting (not one joining a process that has long run alone).
  local start = start_rate > 0
  if start and together > 0 then
    if s.j1 == 0 then
      s.j1 = member
      s.jt = now
    end
    start = s.j1 ~= member and now - s.jt <= together
  end
  if not start then
    save(ttl)
    return {tostring(want), '0', '0', tostring(s.gen), '0'}
  end
  s.mode = 's'
  s.rate = clamp(start_rate, min_rate, max_rate)
  s.grown = now
  s.gok = 0
  -- The search begins: like a cut, it starts the counts, and what got through
  -- at its end is counted from here at most (THROTTLE).
  s.cut = now
  s.rok = 0
  s.rthr = 0
end
local unit = 1
if s.mode == 'h' then
  unit = math.max(math.min(cycle / s.plateau, max_unit), rtts * s.srtt)
end
if ok > 0 then
  -- Growth time passes only while answers keep coming (not while the fleet is
  -- idle), and a success moves the curve by max_step of a unit at most.
  if s.active > 0 then
    local step = math.min(now - s.active, 2 / s.rate + s.srtt)
    if s.mode == 'h' then step = math.min(step, ok * max_step * unit) end
    s.clock = s.clock + step
  end
  s.active = now
end
if s.mode == 's' then
  -- Searching: double per round trip (at least search_time) while the fleet is
  -- held back, never past twice what got through in that time (search_rate).
  s.gok = s.gok + ok
  local per_double = math.max(s.srtt, search_time)
  local span = now - s.grown
  if span >= per_double then
    if saturated > 0 then
      local grown = s.rate * math.pow(2, span / per_double)
      s.rate = clamp(math.max(math.min(grown, 2 * s.gok / span), s.rate), min_rate, max_rate)
    end
    s.gok = 0
    s.grown = now
  end
else
  local x = (s.clock - s.epoch) / unit
  local rate
  if x < s.k then
    rate = s.plateau - scale * s.plateau * math.pow(s.k - x, 3)
  else
    rate = s.plateau + probe_scale * s.plateau * math.pow(x - s.k, 3)
  end
  s.rate = clamp(rate, min_rate, max_rate)
end
if s.tat < now then s.tat = now end
-- Further ahead than any booking reaches (max_ahead, then a lease, or a slot
-- at the slowest rate, and a cut's slot on top): a clock step no `seen` told.
if s.tat - now > max_ahead + lease_time + 2 / math.min(s.rate, min_rate) then s.tat = now end
if s.tat - now > max_ahead then
  save(ttl)
  return {'0', string.format('%.17g', s.tat - max_ahead - now), '0', tostring(s.gen),
    string.format('%.17g', s.rate)}
end
local n = math.max(1, math.min(want, math.floor(s.rate * lease_time)))
local start = s.tat
s.tat = start + n / s.rate
save(ttl)
return {tostring(n), string.format('%.17g', start - now), string.format('%.17g', 1 / s.rate),
  tostring(s.gen), string.format('%.17g', s.rate)}
"""
)

THROTTLE = (
    _PROLOGUE
    + """
local age, paced, req_gen = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local ok, thr = tonumber(ARGV[4]), tonumber(ARGV[5])
local sample, recent = tonumber(ARGV[6]), tonumber(ARGV[7])
local min_rate, max_rate, ttl = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local first_span, deep, headroom = tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
local backoff, tolerance, decrease = tonumber(ARGV[14]), tonumber(ARGV[15]), tonumber(ARGV[16])
local hold, scale = tonumber(ARGV[17]), tonumber(ARGV[18])

count(ok, thr, sample)
local sent = now - age
local cut = 0
if s.mode == 'u' then
  -- The fleet's first 429: pace at what got through per round trip (first_rate).
  local srtt = s.srtt
  if srtt == 0 then srtt = age end
  s.rate = clamp(math.max(recent, 1) / math.max(srtt, first_span), min_rate, max_rate)
  s.mode = 's'
  s.grown = now
  cut = 1
elseif req_gen >= s.gen and sent >= s.cut then
  -- One cut per round: a request sent under an older generation (before its
  -- sender heard of the last cut) went out at a rate already corrected.
  local base = s.rate
  if paced > 0 then base = paced end
  -- The end of the search: what got through (successes per second over the
  -- current and the last half-second buckets, or since the search began if
  -- later: counting the time before it divided what got through by up to ten).
  local got = 0
  if s.mode == 's' then
    got = window(2) / (now - math.max((math.floor(now * 2) - 1) / 2, s.cut))
  end
  -- More got through than the search paces: the 429 is not of its making
  -- (the first process's unpaced start, a server's burst running out), and
  -- the search goes on (search_goes_on). Cut as a hold is, a fleet of 4 held
  -- 17 req/s of a 100 req/s limit, and its curve took 5 s to come back.
  if not (s.mode == 's' and got >= base) then
    local answers = s.rok + s.rthr
    local wok, wthr = window(4)
    local long = 1
    if wok + wthr >= 4 then long = wok / (wok + wthr) end
    local short = long
    if answers >= 4 then short = s.rok / answers end
    local new, plateau
    if got > 0 and got < base then
      new = math.max(got * headroom, base * backoff)
      plateau = got
    elseif short < deep then
      new = base * math.max(short * headroom, backoff)
      plateau = base * short
    elseif long >= 1 - tolerance then
      new = base * headroom
      plateau = base
    else
      new = base * decrease
      plateau = base * hold
    end
    new = clamp(new, min_rate, max_rate)
    s.plateau = math.max(plateau, new)
    s.k = math.pow((s.plateau - new) / (scale * s.plateau), 1 / 3)
    s.epoch = s.clock
    s.rate = new
    s.mode = 'h'
    cut = 1
  end
end
if cut == 1 then
  s.cut = now
  s.gen = s.gen + 1
  s.rok = 0
  s.rthr = 0
  -- Slots already leased stay booked (their holders drop the unspent ones when
  -- they see the new generation); new ones come after them, a full interval on.
  s.tat = math.max(s.tat, now) + 1 / s.rate
end
save(ttl)
return {tostring(s.gen), string.format('%.17g', s.rate), tostring(cut)}
"""
)
