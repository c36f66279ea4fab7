import Foundation
import PortcullisCore

/// The embedded store: one process, zero setup, the default for a single
/// node. TTLs are measured on the injected ``GatewayClock``, so advancing a
/// ``VirtualClock`` by a day expires day-old keys. Several session layers in
/// one process can share a `MemoryStore` and see each other's
/// invalidations, like nodes sharing Redis.
public final class MemoryStore: SessionStore, ImmediateSessionReads, ImmediateSessionWrites, @unchecked Sendable {
    private enum Value {
        case session(StoredSession)
        case string(String)
    }

    private struct Entry {
        var value: Value
        var expiresAt: Date?
    }

    private struct Subscriber {
        var channel: String
        var handler: @Sendable (SubscriptionEvent) -> Void
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var versionCounter: UInt64 = 0
        var subscribers: [UInt64: Subscriber] = [:]
        var nextSubscriberID: UInt64 = 0
        var subscriptionsInterrupted = false
        var unavailableReason: String?
        var latency: Double = 0
    }

    private let clock: any GatewayClock
    private let state = Locked(State())

    /// Creates an empty store whose TTLs follow `clock`.
    public init(clock: any GatewayClock = SystemClock()) {
        self.clock = clock
    }

    // MARK: Sessions

    /// Reads the session record at `key` (nil when missing or past its TTL).
    public func readSession(key: String) async throws -> StoredSession? {
        try await injectedDelay()
        return try readNow(key)
    }

    /// The record now, from memory; waits only when a test injected latency.
    public func readSessionImmediately(key: String) throws -> ImmediateResult<StoredSession?> {
        guard state.withLock({ $0.latency }) <= 0 else { return .mustWait }
        return .ready(try readNow(key))
    }

    private func readNow(_ key: String) throws -> StoredSession? {
        try state.withLock { s in
            try check(&s)
            guard let entry = live(&s, key) else { return nil }
            var record: StoredSession
            switch entry.value {
            case .session(let stored): record = stored
            case .string(let text): record = StoredSession.decode(stored: text)
            }
            record.ttlSeconds = entry.expiresAt.map { $0.timeIntervalSince(clock.now()) }
            return record
        }
    }

    /// Writes under the next version of the store-wide counter, honouring `condition`.
    public func writeSession(key: String, body: String, ttlSeconds: Int64, condition: SessionWriteCondition) async throws -> SessionWriteOutcome {
        try await injectedDelay()
        return try state.withLock { s in
            try check(&s)
            return write(&s, key: key, body: body, ttlSeconds: ttlSeconds, condition: condition)
        }
    }

    /// The write, the deletions and the invalidation in one step, as the
    /// Redis store's script does. When the writer's own subscription is
    /// the only one on the channel nothing is delivered: the writer puts
    /// the record into its own cache itself, so a single node spends
    /// nothing on announcing to itself.
    public func writeSession(key: String, body: String, ttlSeconds: Int64, condition: SessionWriteCondition,
                             deleting: [String], announcing announcement: SessionAnnouncement) async throws -> (SessionWriteOutcome, AnnouncementReceipt) {
        try await injectedDelay()
        return try announcedWrite(key: key, body: body, ttlSeconds: ttlSeconds, condition: condition, deleting: deleting,
                                  announcing: announcement)
    }

    /// Always: memory is written in-process (injected latency is found by the write itself).
    public var writesOnCallingThread: Bool { true }

    /// The announced write now, in memory; waits only when a test injected latency.
    public func writeSessionImmediately(key: String, body: String, ttlSeconds: Int64, condition: SessionWriteCondition,
                                        deleting: [String], announcing announcement: SessionAnnouncement) throws
        -> ImmediateResult<(SessionWriteOutcome, AnnouncementReceipt)> {
        guard state.withLock({ $0.latency }) <= 0 else { return .mustWait }
        return .ready(try announcedWrite(key: key, body: body, ttlSeconds: ttlSeconds, condition: condition, deleting: deleting,
                                         announcing: announcement))
    }

    private func announcedWrite(key: String, body: String, ttlSeconds: Int64, condition: SessionWriteCondition,
                                deleting: [String], announcing announcement: SessionAnnouncement) throws -> (SessionWriteOutcome, AnnouncementReceipt) {
        let (outcome, handlers, includesWriter) = try state.withLock { s -> (SessionWriteOutcome, [@Sendable (SubscriptionEvent) -> Void], Bool) in
            try check(&s)
            let outcome = write(&s, key: key, body: body, ttlSeconds: ttlSeconds, condition: condition, deleting: deleting)
            guard case .written = outcome else { return (outcome, [], false) }
            let handlers = listeners(s, announcement.channel)
            let own = announcement.ownChannel.map { channel in s.subscribers.values.contains { $0.channel == channel } } ?? false
            return (outcome, handlers, own && !handlers.isEmpty)
        }
        guard case .written(let version, _) = outcome else { return (outcome, AnnouncementReceipt(receivers: 0)) }
        if !(includesWriter && handlers.count == 1) {
            let message = "\(announcement.prefix) \(version) \(key)"
            for handler in handlers { handler(.message(message)) }
        }
        return (outcome, AnnouncementReceipt(receivers: handlers.count, includesWriter: includesWriter))
    }

    /// The conditional write under the store lock; `deleting` names
    /// values removed in the same step when the write happens.
    private func write(_ s: inout State, key: String, body: String, ttlSeconds: Int64, condition: SessionWriteCondition,
                       deleting: [String] = []) -> SessionWriteOutcome {
        let current = live(&s, key)
        var replaced: StoredSession?
        if let current {
            switch current.value {
            case .session(let record): replaced = record
            case .string(let text): replaced = StoredSession.decode(stored: text)
            }
        }
        let currentVersion = replaced?.version
        if case .ifVersion(let expected) = condition, currentVersion != expected {
            return .conflict(current: currentVersion)
        }
        for name in deleting { s.entries.removeValue(forKey: name) }
        s.versionCounter += 1
        let version = s.versionCounter
        s.entries[key] = Entry(value: .session(StoredSession(body: body, version: version)), expiresAt: deadline(ttlSeconds))
        return .written(version: version, replaced: replaced)
    }

    /// Every live key starting with `prefix`.
    public func keys(withPrefix prefix: String) async throws -> [String] {
        try await injectedDelay()
        return try state.withLock { s in
            try check(&s)
            let candidates = s.entries.keys.filter { $0.hasPrefix(prefix) }
            return candidates.filter { live(&s, $0) != nil }
        }
    }

    /// Deletes the record and consumes a version.
    public func deleteSession(key: String) async throws -> SessionDeleteOutcome {
        try await injectedDelay()
        return try state.withLock { s in
            try check(&s)
            let existed = live(&s, key) != nil
            s.entries.removeValue(forKey: key)
            s.versionCounter += 1
            return SessionDeleteOutcome(existed: existed, version: s.versionCounter)
        }
    }

    // MARK: Values and counters

    /// The string at `key` (a session record reads as its stored text).
    public func value(forKey key: String) async throws -> String? {
        try await injectedDelay()
        return try state.withLock { s in
            try check(&s)
            guard let entry = live(&s, key) else { return nil }
            switch entry.value {
            case .string(let text): return text
            case .session(let record): return StoredSession.encode(body: record.body, version: record.version)
            }
        }
    }

    /// Stores a string with an optional TTL.
    public func setValue(_ value: String, forKey key: String, ttlSeconds: Int64) async throws {
        try await injectedDelay()
        return try state.withLock { s in
            try check(&s)
            s.entries[key] = Entry(value: .string(value), expiresAt: deadline(ttlSeconds))
        }
    }

    /// Stores only when absent.
    public func setValueIfAbsent(_ value: String, forKey key: String, ttlSeconds: Int64) async throws -> Bool {
        try await injectedDelay()
        return try state.withLock { s in
            try check(&s)
            guard live(&s, key) == nil else { return false }
            s.entries[key] = Entry(value: .string(value), expiresAt: deadline(ttlSeconds))
            return true
        }
    }

    /// Deletes `key`.
    public func deleteValue(forKey key: String) async throws -> Int {
        try await injectedDelay()
        return try state.withLock { s in
            try check(&s)
            let existed = live(&s, key) != nil
            s.entries.removeValue(forKey: key)
            return existed ? 1 : 0
        }
    }

    /// Remaining seconds on the injected clock; -1 no TTL, -2 missing.
    public func timeToLive(forKey key: String) async throws -> Int64 {
        try await injectedDelay()
        return try state.withLock { s in
            try check(&s)
            guard let entry = live(&s, key) else { return -2 }
            guard let expiresAt = entry.expiresAt else { return -1 }
            return Int64(expiresAt.timeIntervalSince(clock.now()).rounded())
        }
    }

    /// Adds one under the store lock.
    public func increment(key: String, ttlSecondsOnCreate: Int64, repairMissingTTL: Bool) async throws -> Int64 {
        try await injectedDelay()
        return try state.withLock { s in
            try check(&s)
            guard var entry = live(&s, key) else {
                s.entries[key] = Entry(value: .string("1"), expiresAt: deadline(ttlSecondsOnCreate))
                return 1
            }
            guard case .string(let text) = entry.value, let current = Int64(text) else {
                throw SessionStoreError.wrongValue(key: key, reason: "it is not an integer")
            }
            let (next, overflow) = current.addingReportingOverflow(1)
            guard !overflow else { throw SessionStoreError.wrongValue(key: key, reason: "increment would overflow") }
            entry.value = .string(String(next))
            if repairMissingTTL, entry.expiresAt == nil { entry.expiresAt = deadline(ttlSecondsOnCreate) }
            s.entries[key] = entry
            return next
        }
    }

    // MARK: Publish / subscribe

    /// Delivers to this process's subscribers synchronously; returns how many got it.
    public func publish(channel: String, message: String) async throws -> Int {
        try await injectedDelay()
        let handlers = try state.withLock { s -> [@Sendable (SubscriptionEvent) -> Void] in
            try check(&s)
            return listeners(s, channel)
        }
        for handler in handlers { handler(.message(message)) }
        return handlers.count
    }

    /// Registers `handler`; it gets `.subscribed` at once unless subscriptions are interrupted.
    public func subscribe(channel: String, handler: @escaping @Sendable (SubscriptionEvent) -> Void) async throws -> StoreSubscription {
        let (id, live) = state.withLock { s -> (UInt64, Bool) in
            s.nextSubscriberID += 1
            s.subscribers[s.nextSubscriberID] = Subscriber(channel: channel, handler: handler)
            return (s.nextSubscriberID, !s.subscriptionsInterrupted)
        }
        if live { handler(.subscribed) }
        return StoreSubscription { [state] in
            _ = state.withLock { s in s.subscribers.removeValue(forKey: id) }
        }
    }

    /// Drops every subscriber; the data stays.
    public func shutdown() async {
        state.withLock { s in s.subscribers.removeAll() }
    }

    // MARK: Fault injection (tests and scenarios)

    /// Drops every subscription as a broken connection would: subscribers
    /// get ``SubscriptionEvent/lost(reason:)`` and miss messages until
    /// ``resumeSubscriptions()``.
    public func interruptSubscriptions(reason: String = "interrupted") {
        let handlers = state.withLock { s -> [@Sendable (SubscriptionEvent) -> Void] in
            s.subscriptionsInterrupted = true
            return s.subscribers.values.map(\.handler)
        }
        for handler in handlers { handler(.lost(reason: reason)) }
    }

    /// Restores subscriptions dropped by ``interruptSubscriptions(reason:)``.
    public func resumeSubscriptions() {
        let handlers = state.withLock { s -> [@Sendable (SubscriptionEvent) -> Void] in
            s.subscriptionsInterrupted = false
            return s.subscribers.values.map(\.handler)
        }
        for handler in handlers { handler(.subscribed) }
    }

    /// Makes every operation fail with ``SessionStoreError/unavailable(reason:)``
    /// (nil restores service), to exercise fail-closed paths without Redis.
    public func setUnavailable(_ reason: String?) {
        state.withLock { s in s.unavailableReason = reason }
    }

    /// Makes every operation take `seconds` longer (0 restores full
    /// speed), to exercise a slow store.
    public func setLatency(_ seconds: Double) {
        state.withLock { s in s.latency = max(0, seconds) }
    }

    /// Removes every expired entry now (reads also drop them lazily).
    public func purgeExpired() {
        let now = clock.now()
        state.withLock { s in
            s.entries = s.entries.filter { _, entry in entry.expiresAt.map { $0 > now } ?? true }
        }
    }

    // MARK: Helpers

    /// The handlers a message on `channel` reaches now: none while
    /// subscriptions are interrupted.
    private func listeners(_ s: State, _ channel: String) -> [@Sendable (SubscriptionEvent) -> Void] {
        guard !s.subscriptionsInterrupted else { return [] }
        return s.subscribers.values.filter { $0.channel == channel }.map(\.handler)
    }

    private func injectedDelay() async throws {
        let latency = state.withLock { s in s.latency }
        if latency > 0 { try await Task.sleep(for: .seconds(latency)) }
    }

    private func check(_ s: inout State) throws {
        if let reason = s.unavailableReason { throw SessionStoreError.unavailable(reason: reason) }
    }

    private func live(_ s: inout State, _ key: String) -> Entry? {
        guard let entry = s.entries[key] else { return nil }
        if let expiresAt = entry.expiresAt, expiresAt <= clock.now() {
            s.entries.removeValue(forKey: key)
            return nil
        }
        return entry
    }

    private func deadline(_ ttlSeconds: Int64) -> Date? {
        ttlSeconds > 0 ? clock.now().addingTimeInterval(TimeInterval(ttlSeconds)) : nil
    }
}
