import Crypto
import Foundation

/// The Lua scripts that make session writes, deletes and counters atomic
/// in Redis. Each runs by `EVALSHA`, falling back to `EVAL` when the
/// server does not have it cached (e.g. after a restart).
struct RedisScript: Sendable {
    let source: String
    let sha1: String

    init(_ source: String) {
        self.source = source
        self.sha1 = Insecure.SHA1.hash(data: Data(source.utf8)).map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }

    /// KEYS: session key, version counter. ARGV: record tail (see
    /// `StoredSession.tail(of:)`), TTL seconds, mode ("always"/"ifversion"),
    /// expected version; keys after the second (a quota counter being
    /// reset) are deleted in the same step. Returns `{1, newVersion, replacedRecord or false}`
    /// or `{0, currentVersion}` (-1 when missing).
    static let writeSession = writeScript(returning: "return {1, v, cur}")

    /// ``writeSession`` that, when it writes, also publishes ARGV[6] ..
    /// " <version> <key>" on channel ARGV[5]: the acknowledged invalidation
    /// leaves with the write. ARGV[7], when given, is the writing node's own
    /// channel: whether that node's pub/sub connection is subscribed, read
    /// in the same atomic step, tells whether it is among the receivers.
    /// When it is the only one, nothing is published: the writer updates
    /// its own cache itself, and a node that subscribes later starts with
    /// an empty cache, so the message would reach no one who needs it.
    /// Returns `{0, current}` or `{1, version, receivers, own, previous}`.
    static let writeSessionAnnounced = writeScript(returning: """
        local own, subscribers = 0, 0
        if ARGV[7] then
          local counts = redis.call('PUBSUB', 'NUMSUB', ARGV[7], ARGV[5])
          own, subscribers = counts[2], counts[4]
        end
        local n
        if own > 0 and subscribers == 1 then
          n = 1
        else
          n = redis.call('PUBLISH', ARGV[5], ARGV[6] .. ' ' .. v .. ' ' .. KEYS[1])
        end
        return {1, v, n, own, cur}
        """)

    /// The conditional write both session-write scripts share, ending with `tail`.
    private static func writeScript(returning tail: String) -> RedisScript {
        RedisScript("""
            local cur = redis.call('GET', KEYS[1])
            local curv = -1
            if cur then
              curv = tonumber(string.match(cur, '^{"portcullis_version":(%d+)')) or 0
            end
            if ARGV[3] == 'ifversion' and curv ~= tonumber(ARGV[4]) then
              return {0, curv}
            end
            for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
            local v = redis.call('INCR', KEYS[2])
            local rec = '{"portcullis_version":' .. v .. ARGV[1]
            if tonumber(ARGV[2]) > 0 then
              redis.call('SET', KEYS[1], rec, 'EX', ARGV[2])
            else
              redis.call('SET', KEYS[1], rec)
            end
            """ + "\n" + tail)
    }

    /// KEYS: session key. Returns nil, or `{record, PTTL}` read atomically.
    static let readSession = RedisScript("""
        local v = redis.call('GET', KEYS[1])
        if not v then return nil end
        return {v, redis.call('PTTL', KEYS[1])}
        """)

    /// KEYS: session key, version counter. Returns `{deleted, version}`.
    static let deleteSession = RedisScript("""
        local n = redis.call('DEL', KEYS[1])
        local v = redis.call('INCR', KEYS[2])
        return {n, v}
        """)

    /// KEYS: counter. ARGV: TTL on create, "1" to also repair a missing TTL.
    static let increment = RedisScript("""
        local c = redis.call('INCR', KEYS[1])
        local ttl = tonumber(ARGV[1])
        if ttl > 0 then
          if c == 1 then
            redis.call('EXPIRE', KEYS[1], ttl)
          elseif ARGV[2] == '1' and redis.call('TTL', KEYS[1]) == -1 then
            redis.call('EXPIRE', KEYS[1], ttl)
          end
        end
        return c
        """)
}
