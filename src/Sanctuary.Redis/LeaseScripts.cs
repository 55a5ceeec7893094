using System.Security.Cryptography;
using System.Text;

namespace Sanctuary.Redis;

/// <summary>
/// The server-side scripts of <see cref="RedisLeaseStore"/>. Each store operation is one of these
/// scripts, so it runs as one atomic step on the server and costs one round trip.
/// </summary>
/// <remarks>
/// <para>
/// Keys of one resource (all in one hash slot, because they share the <c>{resource}</c> tag):
/// </para>
/// <list type="table">
///   <item><term><c>x</c> (string)</term><description>the exclusive or write lease, which is always alone: its record, with the key's own time-to-live as the lease's, so Redis drops it when the lease expires.</description></item>
///   <item><term><c>h</c> (hash)</term><description>shared holders (readers and reservations): lease id to record, plus counters <c>#r</c> and <c>#u</c> (readers, upgradeable readers), <c>#units</c> and <c>#capacity</c> (a pool's reserved units and total).</description></item>
///   <item><term><c>e</c> (sorted set)</term><description>shared holders scored by expiry in server milliseconds, <c>+inf</c> for none.</description></item>
///   <item><term><c>w</c> (sorted set)</term><description>waiters in line (writers, exclusive requests and reservations): lease id scored by when its place lapses unless the waiter tries again.</description></item>
///   <item><term><c>q</c> (sorted set)</term><description>the same waiters scored by when they joined the line, so the first to join is served first.</description></item>
///   <item><term><c>f</c> (string)</term><description>the fencing counter. It never expires and is never deleted, so tokens never repeat.</description></item>
/// </list>
/// <para>
/// A record is a leading field (the lease id in <c>x</c>, the expiry in server milliseconds or
/// <c>inf</c> in <c>h</c>), the fencing token, then the part the client formats:
/// <c>mode|units|acquired ms|owner bytes|owner</c> followed by the purpose. The owner's byte length
/// comes before it, so owners and purposes may contain any character. Expiry is decided by the
/// server's clock (key time-to-live, or <c>TIME</c> for shared holders), so clients with skewed
/// clocks agree on it; the acquired time is the acquiring client's clock and only informs.
/// <c>h</c> and <c>e</c> expire one second after their longest-lived holder and are deleted with
/// the last one, so an idle resource leaves only its fencing counter behind.
/// </para>
/// <para>
/// The common case, an exclusive acquire of a free resource with nobody in line, is three
/// commands (<c>EXISTS</c>, <c>INCR</c>, <c>SET PX</c>), and its release is three (<c>GET</c>,
/// <c>DEL</c>, <c>PUBLISH</c>): inside a script each command costs about as much as a plain
/// command sent alone, so the count is what the scripts keep low.
/// </para>
/// </remarks>
internal static class LeaseScripts
{
    // First element of the acquire script's array reply for a pool used with another total. A
    // grant replies with the fencing token alone, an integer; a refusal with an array that starts with 0.
    public const long CapacityMismatch = -1;

    /// <summary>See <see cref="AcquireText"/>.</summary>
    public static readonly ServerScript Acquire = new(AcquireText);

    /// <summary>See <see cref="ExtendText"/>.</summary>
    public static readonly ServerScript Extend = new(ExtendText);

    /// <summary>See <see cref="ReleaseText"/>.</summary>
    public static readonly ServerScript Release = new(ReleaseText);

    /// <summary>See <see cref="HoldersText"/>.</summary>
    public static readonly ServerScript Holders = new(HoldersText);

    /// <summary>See <see cref="WithdrawText"/>.</summary>
    public static readonly ServerScript Withdraw = new(WithdrawText);

    // Script fragments. Each script defines only the functions it uses, and only after its common
    // case has returned, because Redis runs the whole script body (and so creates each function)
    // on every call. Lua 5.1 numbers are doubles,
    // exact for integers below 2^53, so the millisecond times and counters here are exact.

    // The server's clock in Unix milliseconds, and record parsing.
    private const string Common = """
        local function now_ms()
          local t = redis.call('TIME')
          return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        end

        -- Returns the leading field, mode, units and owner of a record.
        local function parse(rec)
          local lead, mode, units, olen, pos = string.match(rec, '^([^|]+)|%d+|(%a)|(%d+)|%d+|(%d+)|()')
          olen = tonumber(olen)
          return lead, mode, tonumber(units), string.sub(rec, pos, pos + olen - 1)
        end

        """;

    // Shared holders: counters, expiry, the keys' own expiry.
    private const string Shared = """
        local function counter_of(mode, units)
          if units > 0 then return '#units', units end
          if mode == 'R' then return '#r', 1 end
          return '#u', 1
        end

        local function forget(h, rec)
          local _, mode, units = parse(rec)
          local field, amount = counter_of(mode, units)
          redis.call('HINCRBY', h, field, -amount)
        end

        local function purge(h, e, now)
          local expired = redis.call('ZRANGEBYSCORE', e, '-inf', now)
          if #expired == 0 then return end
          redis.call('ZREMRANGEBYSCORE', e, '-inf', now)
          -- unpack is limited by the Lua stack, so large batches go in chunks.
          for i = 1, #expired, 500 do
            local last = math.min(i + 499, #expired)
            local recs = redis.call('HMGET', h, unpack(expired, i, last))
            for j = 1, #recs do
              if recs[j] then forget(h, recs[j]) end
            end
            redis.call('HDEL', h, unpack(expired, i, last))
          end
        end

        local function settle(h, e)
          local top = redis.call('ZRANGE', e, -1, -1, 'WITHSCORES')
          if #top == 0 then
            redis.call('DEL', h, e)
          elseif top[2] == 'inf' then
            redis.call('PERSIST', h)
            redis.call('PERSIST', e)
          else
            local at = tonumber(top[2]) + 1000
            redis.call('PEXPIREAT', h, at)
            redis.call('PEXPIREAT', e, at)
          end
        end

        """;

    // Live holders as {id, record, milliseconds left (-1 for no expiry)} triples appended to a
    // reply, the earliest to expire first.
    private const string Listing = """
        local function holders(x, h, e, limit, reply)
          local alone = redis.call('GET', x)
          if alone then
            reply[#reply + 1] = string.match(alone, '^[^|]+')
            reply[#reply + 1] = alone
            reply[#reply + 1] = redis.call('PTTL', x)
            return reply
          end
          local now = now_ms()
          local ids = redis.call('ZRANGEBYSCORE', e, '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, limit)
          for i = 1, #ids, 2 do
            local rec = redis.call('HGET', h, ids[i])
            if rec then
              reply[#reply + 1] = ids[i]
              reply[#reply + 1] = rec
              if ids[i + 1] == 'inf' then reply[#reply + 1] = -1 else reply[#reply + 1] = tonumber(ids[i + 1]) - now end
            end
          end
          return reply
        end

        """;

    /// <summary>
    /// Grants a lease if the mode or units fit and no earlier waiter is in line, else reports the holders.
    /// KEYS: x, h, e, w, q, f. ARGV: lease id, mode letter (X, R, W, U), time-to-live ms (-1 for
    /// none), units, capacity, the client's part of the record, place-in-line time-to-live ms (0
    /// does not join the line), maximum holders to report.
    /// Reply: the fencing token (an integer) when granted; else {0, id, record, ms left, ...}, or
    /// {-1, stored capacity} for a pool used with another total.
    /// </summary>
    /// <remarks>
    /// Writers, exclusive requests and reservations that wait join a line: while it is not empty,
    /// only its first waiter is granted, so a client that releases and acquires again at once cannot
    /// starve the others. Readers do not join; they wait while any writer is in line (writer
    /// preference). A waiter keeps its place only while it keeps trying.
    /// </remarks>
    private const string AcquireText = """
        local x, h, e, w, q, f = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
        local id, mode, client = ARGV[1], ARGV[2], ARGV[6]
        local ttl, units = tonumber(ARGV[3]), tonumber(ARGV[4])
        local writer = units == 0 and (mode == 'X' or mode == 'W')

        -- The common case comes before anything else is defined: an exclusive or write lease on a
        -- resource that nobody holds and nobody waits for. x alone holds it, expiring with the lease.
        if writer and redis.call('EXISTS', x, h, w) == 0 then
          local fence = redis.call('INCR', f)
          if ttl >= 0 then
            redis.call('SET', x, id .. '|' .. fence .. '|' .. client, 'PX', ttl)
          else
            redis.call('SET', x, id .. '|' .. fence .. '|' .. client)
          end
          return fence
        end

        """ + Common + Shared + Listing + """
        local capacity, place = tonumber(ARGV[5]), tonumber(ARGV[7])
        local queues = writer or units > 0

        -- An exclusive or write lease: x alone, expiring with the lease.
        local function grant_alone()
          local fence = redis.call('INCR', f)
          local rec = id .. '|' .. fence .. '|' .. client
          if ttl >= 0 then
            redis.call('SET', x, rec, 'PX', ttl)
          else
            redis.call('SET', x, rec)
          end
          return fence
        end

        -- A shared lease joins h and e; count is the number of shared holders before it.
        local function grant_shared(count, now)
          local fence = redis.call('INCR', f)
          local expires = 'inf'
          if ttl >= 0 then expires = string.format('%d', now + ttl) end
          redis.call('ZADD', e, expires, id)
          local rec = expires .. '|' .. fence .. '|' .. client
          if count == 0 then
            -- The first holder: the counters are set outright, which also clears any left from a
            -- hash that outlived its holders.
            local r, u = 0, 0
            if units == 0 and mode == 'R' then r = 1 elseif units == 0 then u = 1 end
            redis.call('HSET', h, id, rec, '#r', r, '#u', u, '#units', units, '#capacity', capacity)
            if ttl < 0 then
              redis.call('PERSIST', h)
            else
              redis.call('PEXPIREAT', h, now + ttl + 1000)
              redis.call('PEXPIREAT', e, now + ttl + 1000)
            end
          else
            local field, amount = counter_of(mode, units)
            redis.call('HSET', h, id, rec)
            redis.call('HINCRBY', h, field, amount)
            settle(h, e)
          end
          return fence
        end

        -- A shared lease on a resource that nobody holds and nobody waits for.
        if not writer and redis.call('EXISTS', x, h, w) == 0 then
          redis.call('DEL', e)
          return grant_shared(0, now_ms())
        end

        local now = now_ms()
        local held_alone = redis.call('EXISTS', x) == 1
        local count = 0
        if not held_alone then
          count = redis.call('ZCARD', e)
          if count > 0 then
            purge(h, e, now)
            count = redis.call('ZCARD', e)
          end
        end

        -- Waiters that stopped asking leave the line.
        local waiting = false
        if redis.call('EXISTS', w) == 1 then
          local lapsed = redis.call('ZRANGEBYSCORE', w, '-inf', now)
          if #lapsed > 0 then
            redis.call('ZREMRANGEBYSCORE', w, '-inf', now)
            for i = 1, #lapsed, 500 do
              redis.call('ZREM', q, unpack(lapsed, i, math.min(i + 499, #lapsed)))
            end
          end
          waiting = redis.call('ZCARD', w) > 0

          -- A registry sends one exclusive or write acquire per resource at a time, so a newer one
          -- from the same registry (same first half of the lease id) means it gave up the older ones.
          if waiting and writer then
            local origin = string.sub(id, 1, 17)
            local line = redis.call('ZRANGE', q, 0, -1)
            for i = 1, #line do
              if line[i] ~= id and string.sub(line[i], 1, 17) == origin then
                redis.call('ZREM', q, line[i])
                redis.call('ZREM', w, line[i])
              end
            end
            waiting = redis.call('ZCARD', w) > 0
          end
        end

        local function first_in_line()
          if not waiting then return true end
          local head = redis.call('ZRANGE', q, 0, 0)
          return #head == 0 or head[1] == id
        end

        -- A lease id that still holds (an earlier attempt whose removal has not reached the
        -- server yet) is never granted twice: the second record would be removed with the first.
        local fits = false
        if held_alone then
          fits = false
        elseif count == 0 then
          fits = (queues and first_in_line()) or (not queues and not waiting)
        elseif not writer and not redis.call('ZSCORE', e, id) then
          if units > 0 then
            local a = redis.call('HMGET', h, '#r', '#u', '#units', '#capacity')
            local stored = tonumber(a[4])
            if stored and stored > 0 and stored ~= capacity then
              return {-1, stored}
            end
            local locks = (tonumber(a[1]) or 0) + (tonumber(a[2]) or 0)
            fits = locks == 0 and (tonumber(a[3]) or 0) + units <= capacity and first_in_line()
          elseif not waiting then
            local a = redis.call('HMGET', h, '#u', '#units')
            fits = (tonumber(a[2]) or 0) == 0 and (mode == 'R' or (tonumber(a[1]) or 0) == 0)
          end
        end

        if fits then
          if waiting then
            redis.call('ZREM', w, id)
            redis.call('ZREM', q, id)
          end
          if count == 0 then
            -- Nothing holds, but the hash may have outlived its holders.
            redis.call('DEL', h, e)
          end
          if writer then return grant_alone() end
          return grant_shared(count, now)
        end

        if place > 0 and queues then
          redis.call('ZADD', w, now + place, id)
          redis.call('ZADD', q, 'NX', now, id)
          redis.call('PEXPIRE', w, place + 1000)
          redis.call('PEXPIRE', q, place + 1000)
        end
        return holders(x, h, e, tonumber(ARGV[8]), {0})
        """;

    /// <summary>
    /// Sets a lease's expiry to now plus the time-to-live if the lease id and owner still hold.
    /// KEYS: x, h, e. ARGV: lease id, owner, time-to-live ms (-1 for none). Reply: 1 or 0.
    /// </summary>
    private const string ExtendText = """
        local x, h, e = KEYS[1], KEYS[2], KEYS[3]
        local id, owner, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
        local alone = redis.call('GET', x)
        if alone then
          local lead, olen, pos = string.match(alone, '^([^|]+)|%d+|%a|%d+|%d+|(%d+)|()')
          if lead ~= id or string.sub(alone, pos, pos + tonumber(olen) - 1) ~= owner then return 0 end
          if ttl < 0 then redis.call('PERSIST', x) else redis.call('PEXPIRE', x, ttl) end
          return 1
        end

        """ + Common + Shared + """
        local rec = redis.call('HGET', h, id)
        if not rec then return 0 end
        local expires, _, _, held_by = parse(rec)
        if held_by ~= owner then return 0 end
        local now = now_ms()
        if expires ~= 'inf' and tonumber(expires) <= now then
          purge(h, e, now)
          settle(h, e)
          return 0
        end
        expires = 'inf'
        if ttl >= 0 then expires = string.format('%d', now + ttl) end
        redis.call('ZADD', e, 'XX', expires, id)
        redis.call('HSET', h, id, expires .. string.sub(rec, (string.find(rec, '|', 1, true))))
        settle(h, e)
        return 1
        """;

    /// <summary>
    /// Removes a lease if the lease id and owner still hold, and publishes the release.
    /// KEYS: x, h, e. ARGV: lease id, owner, release channel. Reply: 1 or 0.
    /// </summary>
    /// <remarks>
    /// Other shared holders' expired records are left to the next acquire; the keys keep their
    /// expiry, which the remaining holders never outlive.
    /// </remarks>
    private const string ReleaseText = """
        local x, h, e = KEYS[1], KEYS[2], KEYS[3]
        local id, owner = ARGV[1], ARGV[2]
        local alone = redis.call('GET', x)
        if alone then
          local lead, olen, pos = string.match(alone, '^([^|]+)|%d+|%a|%d+|%d+|(%d+)|()')
          if lead ~= id or string.sub(alone, pos, pos + tonumber(olen) - 1) ~= owner then return 0 end
          redis.call('DEL', x)
          redis.call('PUBLISH', ARGV[3], id)
          return 1
        end

        """ + Common + Shared + """
        local rec = redis.call('HGET', h, id)
        if not rec then return 0 end
        local expires, _, _, held_by = parse(rec)
        if held_by ~= owner then return 0 end
        local now = now_ms()
        if expires ~= 'inf' and tonumber(expires) <= now then
          -- Expired: no longer held. Drop it as an acquire would.
          purge(h, e, now)
          settle(h, e)
          return 0
        end
        redis.call('ZREM', e, id)
        if redis.call('ZCARD', e) == 0 then
          redis.call('DEL', h)
        else
          redis.call('HDEL', h, id)
          forget(h, rec)
        end
        redis.call('PUBLISH', ARGV[3], id)
        return 1
        """;

    /// <summary>
    /// Lists the live holders without changing anything.
    /// KEYS: x, h, e. ARGV: maximum holders (-1 for all). Reply: {id, record, ms left, ...}.
    /// </summary>
    private const string HoldersText = Common + Listing + """
        return holders(KEYS[1], KEYS[2], KEYS[3], tonumber(ARGV[1]), {})
        """;

    /// <summary>
    /// Takes a waiter out of the line and, if it was in it, wakes the waiters it held back.
    /// KEYS: w, q. ARGV: lease id, release channel. Reply: 1 if the waiter was in line, else 0.
    /// </summary>
    private const string WithdrawText = """
        redis.call('ZREM', KEYS[2], ARGV[1])
        if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
          redis.call('PUBLISH', ARGV[2], '')
          return 1
        end
        return 0
        """;
}

/// <summary>
/// A script's text and its SHA-1 digest, the id under which Redis caches it. Calls send the digest
/// (EVALSHA), so the text crosses the network and is compiled only when the server does not have it.
/// </summary>
internal sealed class ServerScript
{
    public ServerScript(string text)
    {
        Text = text;

        // SHA-1 is what Redis names scripts by; it identifies the text here and protects nothing.
        Hash = SHA1.HashData(Encoding.UTF8.GetBytes(text));
    }

    public string Text { get; }

    public byte[] Hash { get; }
}
