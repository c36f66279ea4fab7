import Logging
import NIOCore
import NIOPosix

/// A ``SessionStore`` on Redis, for many nodes sharing sessions. Speaks
/// RESP2 itself (no client library) over a small pool of pipelined
/// connections plus one pub/sub connection; see ``RedisConfiguration``.
/// A thread that may block (a JS worker inside a binding) sends its
/// commands itself over a connection of its own (``BlockingRedisLinks``),
/// so a plugin's write or cache miss costs no hand-over to an event loop.
///
/// Key layout is Tyk's: sessions at `apikey-…`, quota counters at
/// `quota-…`, plugin data at `jsvm-store:…` (the callers build the names).
/// Session versions come from the counter `portcullis-session-version`
/// (see ``StoredSession``); the write script touches two keys, so the
/// store targets a single Redis (or a cluster with hash tags), not a
/// sharded cluster.
///
/// Any failure — refused connection, timeout, error reply, a reply of the
/// wrong shape, garbage on the wire — is a ``SessionStoreError``; the pool
/// reconnects on the next command after Redis comes back.
public final class RedisStore: SessionStore, ImmediateSessionWrites {
    /// The counter every session version is taken from.
    public static let versionCounterKey = "portcullis-session-version"

    private let configuration: RedisConfiguration
    private let connector: RedisConnector
    private let pool: RedisConnectionPool
    private let links: BlockingRedisLinks
    private let subscriber: RedisSubscriber

    /// Creates a store; nothing connects until the first command or
    /// subscription (``verify()`` checks the settings at start).
    public init(configuration: RedisConfiguration,
                group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger = Logger(label: "portcullis.sessions.redis")) {
        self.configuration = configuration
        self.connector = RedisConnector(configuration: configuration, group: group, logger: logger)
        self.pool = RedisConnectionPool(connector: connector)
        self.links = BlockingRedisLinks(connector: connector)
        self.subscriber = RedisSubscriber(connector: connector, logger: logger)
    }

    /// Checks the settings by connecting once: TLS files and handshake,
    /// credentials, database, and with Sentinel that a sentinel names a
    /// primary. Throws ``SessionStoreError/misconfigured(setting:reason:)``
    /// for settings that can never work; any other error means Redis is
    /// not reachable now (requests fail closed with 503 until it is).
    public func verify() async throws {
        try connector.checkTLS()
        let connection = try await RedisConnection.openPrimary(connector).get()
        defer { connection.close() }
        let reply = try await connection.send(["PING"])
        if case .error(let message) = reply { throw RedisConnector.handshakeError("PING", message, sentinel: false) }
    }

    // MARK: Commands

    /// Runs one command and returns its reply; an error reply becomes
    /// ``SessionStoreError/serverError(command:message:)``.
    public func command(_ arguments: [String]) async throws -> RESPValue {
        let name = arguments.first ?? "?"
        let reply: RESPValue
        do {
            if let answered = try links.withConnection({ try $0.send(arguments) }) {
                reply = answered
            } else if let connection = pool.connectionNow() {
                reply = try await connection.send(arguments)
            } else {
                let connection = try await pool.connection().get()
                reply = try await connection.send(arguments)
            }
        } catch let error as SessionStoreError {
            throw error
        } catch {
            throw SessionStoreError.unavailable(reason: "\(name) to \(configuration.address) failed: \(error)")
        }
        if case .error(let message) = reply {
            throw SessionStoreError.serverError(command: name, message: message)
        }
        return reply
    }

    private func run(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RESPValue {
        let tail = [String(keys.count)] + keys + arguments
        do {
            return try await command(["EVALSHA", script.sha1] + tail)
        } catch SessionStoreError.serverError(_, let message) where message.hasPrefix("NOSCRIPT") {
            return try await command(["EVAL", script.source] + tail)
        }
    }

    /// A session write or delete: with `wait_replicas`, followed on the
    /// same connection by `WAIT n timeout`, and refused as
    /// ``SessionStoreError/notReplicated(reached:required:milliseconds:)``
    /// unless enough replicas have it; otherwise ``run(_:keys:arguments:)``.
    private func runReplicated(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RESPValue {
        if let reply = try runOnThisThread(script, keys: keys, arguments: arguments) { return reply }
        let required = configuration.waitReplicas
        guard required > 0 else { return try await run(script, keys: keys, arguments: arguments) }
        let tail = [String(keys.count)] + keys + arguments
        let wait = ["WAIT", String(required), String(configuration.waitTimeoutMilliseconds)]
        let connection: RedisConnection
        do {
            if let ready = pool.connectionNow() {
                connection = ready
            } else {
                connection = try await pool.connection().get()
            }
        } catch let error as SessionStoreError {
            throw error
        } catch {
            throw SessionStoreError.unavailable(reason: "session write to the Redis primary failed: \(error)")
        }
        var (reply, waited) = try await connection.sendPair(["EVALSHA", script.sha1] + tail, wait)
        if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
            (reply, waited) = try await connection.sendPair(["EVAL", script.source] + tail, wait)
        }
        return try checkReplicated((reply, waited))
    }

    /// A write script (with `WAIT` when replicas are required) on this
    /// thread's own blocking connection (``BlockingRedisLinks``); nil,
    /// having sent nothing, when the caller has to use the event-loop pool.
    private func runOnThisThread(_ script: RedisScript, keys: [String], arguments: [String]) throws -> RESPValue? {
        let tail = [String(keys.count)] + keys + arguments
        let required = configuration.waitReplicas
        let wait = required > 0 ? [["WAIT", String(required), String(configuration.waitTimeoutMilliseconds)]] : []
        let sent: [RESPValue]?
        do {
            sent = try links.withConnection { link -> [RESPValue] in
                let replies = try link.send([["EVALSHA", script.sha1] + tail] + wait)
                guard let first = replies.first, case .error(let message) = first, message.hasPrefix("NOSCRIPT") else { return replies }
                return try link.send([["EVAL", script.source] + tail] + wait)
            }
        } catch let error as SessionStoreError {
            throw error
        } catch {
            throw SessionStoreError.unavailable(reason: "EVALSHA to \(configuration.address) failed: \(error)")
        }
        guard let replies = sent else { return nil }
        guard let reply = replies.first else { throw SessionStoreError.badReply(command: "EVALSHA", reason: "no reply") }
        if required > 0 {
            guard replies.count == 2 else { throw SessionStoreError.badReply(command: "WAIT", reason: "no reply") }
            return try checkReplicated((reply, replies[1]))
        }
        if case .error(let message) = reply { throw SessionStoreError.serverError(command: "EVALSHA", message: message) }
        return reply
    }

    private func checkReplicated(_ replies: (RESPValue, RESPValue)) throws -> RESPValue {
        let (reply, waited) = replies
        let required = configuration.waitReplicas
        if case .error(let message) = reply { throw SessionStoreError.serverError(command: "session write", message: message) }
        if case .error(let message) = waited { throw SessionStoreError.serverError(command: "WAIT", message: message) }
        guard case .integer(let reached) = waited else {
            throw SessionStoreError.badReply(command: "WAIT", reason: "expected the replica count, got \(waited.summary)")
        }
        guard reached >= required else {
            throw SessionStoreError.notReplicated(reached: Int(reached), required: required, milliseconds: configuration.waitTimeoutMilliseconds)
        }
        return reply
    }

    private func integer(_ reply: RESPValue, _ command: String) throws -> Int64 {
        guard case .integer(let value) = reply else {
            throw SessionStoreError.badReply(command: command, reason: "expected an integer, got \(reply.summary)")
        }
        return value
    }

    private func pair(_ reply: RESPValue, _ command: String) throws -> (Int64, Int64) {
        guard case .array(let items?) = reply, items.count == 2,
              case .integer(let first) = items[0], case .integer(let second) = items[1]
        else { throw SessionStoreError.badReply(command: command, reason: "expected two integers, got \(reply.summary)") }
        return (first, second)
    }

    private func optionalText(_ reply: RESPValue, _ command: String) throws -> String? {
        if reply.isNull { return nil }
        guard let text = reply.text else {
            throw SessionStoreError.badReply(command: command, reason: "expected a string, got \(reply.summary)")
        }
        return text
    }

    private static func ttlArguments(_ ttlSeconds: Int64) -> [String] {
        ttlSeconds > 0 ? ["EX", String(ttlSeconds)] : []
    }

    // MARK: Sessions

    /// Reads the record and its remaining TTL in one script (`GET` + `PTTL`).
    public func readSession(key: String) async throws -> StoredSession? {
        let reply = try await run(.readSession, keys: [key], arguments: [])
        if reply.isNull { return nil }
        guard case .array(let items?) = reply, items.count == 2, let text = items[0].text, case .integer(let pttl) = items[1] else {
            throw SessionStoreError.badReply(command: "session read", reason: "expected a record and its TTL, got \(reply.summary)")
        }
        var record = StoredSession.decode(stored: text)
        record.ttlSeconds = pttl >= 0 ? Double(pttl) / 1000 : nil
        return record
    }

    /// Writes atomically by script: checks `condition`, takes a version from `portcullis-session-version`, `SET`s with `EX` when `ttlSeconds` > 0.
    public func writeSession(key: String, body: String, ttlSeconds: Int64, condition: SessionWriteCondition) async throws -> SessionWriteOutcome {
        try await writeSession(key: key, body: body, ttlSeconds: ttlSeconds, condition: condition, deleting: [])
    }

    /// The same script deletes `deleting` once the condition holds: a plugin
    /// write that resets the quota costs one round trip, not two.
    public func writeSession(key: String, body: String, ttlSeconds: Int64, condition: SessionWriteCondition,
                             deleting: [String]) async throws -> SessionWriteOutcome {
        let reply = try await runReplicated(.writeSession, keys: [key, Self.versionCounterKey] + deleting,
                                  arguments: Self.writeArguments(body, ttlSeconds, condition))
        guard case .array(let items?) = reply, items.count >= 2,
              case .integer(let written) = items[0], case .integer(let version) = items[1]
        else { throw SessionStoreError.badReply(command: "session write", reason: "expected two integers, got \(reply.summary)") }
        if written == 1 {
            let replaced = items.count > 2 ? items[2].text.map(StoredSession.decode(stored:)) : nil
            return .written(version: UInt64(max(0, version)), replaced: replaced)
        }
        return .conflict(current: version < 0 ? nil : UInt64(version))
    }

    /// The write, the quota reset and the invalidation in one script.
    public func writeSession(key: String, body: String, ttlSeconds: Int64, condition: SessionWriteCondition,
                             deleting: [String], announcing announcement: SessionAnnouncement) async throws -> (SessionWriteOutcome, AnnouncementReceipt) {
        let reply = try await runReplicated(.writeSessionAnnounced, keys: [key, Self.versionCounterKey] + deleting,
                                            arguments: Self.announcedArguments(body, ttlSeconds, condition, announcement))
        return try Self.announcedOutcome(reply)
    }

    /// On a thread that may block (a JS worker), without TLS.
    public var writesOnCallingThread: Bool { links.servesCurrentThread }

    /// The same script sent and answered on this thread's blocking
    /// connection (a JS worker's); ``ImmediateResult/mustWait`` elsewhere.
    public func writeSessionImmediately(key: String, body: String, ttlSeconds: Int64, condition: SessionWriteCondition,
                                        deleting: [String], announcing announcement: SessionAnnouncement) throws
        -> ImmediateResult<(SessionWriteOutcome, AnnouncementReceipt)> {
        guard let reply = try runOnThisThread(.writeSessionAnnounced, keys: [key, Self.versionCounterKey] + deleting,
                                              arguments: Self.announcedArguments(body, ttlSeconds, condition, announcement)) else {
            return .mustWait
        }
        return .ready(try Self.announcedOutcome(reply))
    }

    /// ARGV of ``RedisScript/writeSessionAnnounced``.
    private static func announcedArguments(_ body: String, _ ttlSeconds: Int64, _ condition: SessionWriteCondition,
                                           _ announcement: SessionAnnouncement) -> [String] {
        var arguments = writeArguments(body, ttlSeconds, condition) + [announcement.channel, announcement.prefix]
        if let own = announcement.ownChannel { arguments.append(own) }
        return arguments
    }

    /// What ``RedisScript/writeSessionAnnounced`` answered.
    private static func announcedOutcome(_ reply: RESPValue) throws -> (SessionWriteOutcome, AnnouncementReceipt) {
        guard case .array(let items?) = reply, items.count >= 2,
              case .integer(let written) = items[0], case .integer(let version) = items[1]
        else { throw SessionStoreError.badReply(command: "session write", reason: "expected integers, got \(reply.summary)") }
        guard written == 1 else { return (.conflict(current: version < 0 ? nil : UInt64(version)), AnnouncementReceipt(receivers: 0)) }
        guard items.count >= 4, case .integer(let receivers) = items[2], case .integer(let own) = items[3] else {
            throw SessionStoreError.badReply(command: "session write", reason: "expected the subscriber counts, got \(reply.summary)")
        }
        let replaced = items.count > 4 ? items[4].text.map(StoredSession.decode(stored:)) : nil
        // The writer counts as a receiver only if its subscription to the
        // invalidation channel is live too (it subscribes to its own
        // channel after that one and drops it first).
        let includesWriter = own > 0 && receivers > 0
        return (.written(version: UInt64(max(0, version)), replaced: replaced), AnnouncementReceipt(receivers: Int(receivers), includesWriter: includesWriter))
    }

    /// ARGV of the session-write scripts: the record's tail, the TTL and the condition.
    private static func writeArguments(_ body: String, _ ttlSeconds: Int64, _ condition: SessionWriteCondition) -> [String] {
        let mode: [String]
        switch condition {
        case .always: mode = ["always", "0"]
        case .ifVersion(let expected): mode = ["ifversion", String(expected)]
        }
        return [StoredSession.tail(of: body), String(max(0, ttlSeconds))] + mode
    }

    /// `DEL` plus a version taken from the counter, atomically.
    public func deleteSession(key: String) async throws -> SessionDeleteOutcome {
        let reply = try await runReplicated(.deleteSession, keys: [key, Self.versionCounterKey], arguments: [])
        let (deleted, version) = try pair(reply, "session delete")
        return SessionDeleteOutcome(existed: deleted > 0, version: UInt64(max(0, version)))
    }

    // MARK: Values and counters

    /// `GET`.
    public func keys(withPrefix prefix: String) async throws -> [String] {
        let pattern = prefix.map { "*?[]\\".contains($0) ? "\\\($0)" : String($0) }.joined() + "*"
        var cursor = "0"
        var found: [String] = []
        repeat {
            let reply = try await command(["SCAN", cursor, "MATCH", pattern, "COUNT", "1000"])
            guard case .array(let page?) = reply, page.count == 2, let next = page[0].text,
                  case .array(let names?) = page[1]
            else { throw SessionStoreError.badReply(command: "SCAN", reason: "expected a cursor and a list, got \(reply.summary)") }
            found += names.compactMap(\.text)
            cursor = next
        } while cursor != "0"
        return Array(Set(found))
    }

    public func value(forKey key: String) async throws -> String? {
        try optionalText(try await command(["GET", key]), "GET")
    }

    /// `SET` (with `EX` when `ttlSeconds` > 0).
    public func setValue(_ value: String, forKey key: String, ttlSeconds: Int64) async throws {
        _ = try await command(["SET", key, value] + Self.ttlArguments(ttlSeconds))
    }

    /// `SET … NX`.
    public func setValueIfAbsent(_ value: String, forKey key: String, ttlSeconds: Int64) async throws -> Bool {
        let reply = try await command(["SET", key, value, "NX"] + Self.ttlArguments(ttlSeconds))
        return !reply.isNull
    }

    /// `DEL`.
    public func deleteValue(forKey key: String) async throws -> Int {
        Int(try integer(try await command(["DEL", key]), "DEL"))
    }

    /// `TTL`.
    public func timeToLive(forKey key: String) async throws -> Int64 {
        try integer(try await command(["TTL", key]), "TTL")
    }

    /// `INCR` plus `EXPIRE` on create (and on a counter without TTL when repairing), by script.
    public func increment(key: String, ttlSecondsOnCreate: Int64, repairMissingTTL: Bool) async throws -> Int64 {
        do {
            let reply = try await run(.increment, keys: [key], arguments: [String(max(0, ttlSecondsOnCreate)), repairMissingTTL ? "1" : "0"])
            return try integer(reply, "INCR")
        } catch SessionStoreError.serverError(_, let message) where message.contains("not an integer") {
            throw SessionStoreError.wrongValue(key: key, reason: "it is not an integer")
        }
    }

    // MARK: Publish / subscribe

    /// `PUBLISH`; returns Redis' receiver count.
    public func publish(channel: String, message: String) async throws -> Int {
        Int(try integer(try await command(["PUBLISH", channel, message]), "PUBLISH"))
    }

    /// Subscribes on the dedicated pub/sub connection, which reconnects and resubscribes by itself.
    public func subscribe(channel: String, handler: @escaping @Sendable (SubscriptionEvent) -> Void) async throws -> StoreSubscription {
        subscriber.subscribe(channel: channel, deliver: handler)
    }

    /// Closes the pools, the pub/sub connection and the sentinel watch.
    public func shutdown() async {
        pool.shutdown()
        links.shutdown()
        subscriber.shutdown()
        connector.locator.shutdown()
    }
}
