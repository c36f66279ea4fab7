import Foundation
import PortcullisCore

/// The node-local session cache (Tyk's `local_session_cache`), built so it
/// can never bring back an older session:
///
/// - Entries carry the record version. The writing node puts its own new
///   version in (updated, not just dropped); a newer entry is never
///   replaced by an older one.
/// - Every invalidation (from this node or another, via pub/sub) raises a
///   per-key *floor*: fills with a lower version are refused. A fill that
///   read the store before a renewal or a delete therefore cannot land
///   after it. Floors are forgotten once no fill that started before them
///   is still running.
/// - While the invalidation subscription is down the cache is *suspended*:
///   empty, and fills are refused, because invalidations may be missed.
///   Suspending and resuming start a new epoch, and fills from an older
///   epoch are refused.
/// - Entries are values (``SessionState`` is a struct): nothing is shared
///   with a request that read one.
final class SessionCache: Sendable {
    private struct Entry {
        var value: VersionedSession
        var storedAt: Date
        var deadline: Date
        /// The session's JSON text, made the first time a plugin reads it.
        var json: String?
    }

    private struct Floor {
        var version: UInt64
        var sequence: UInt64
    }

    /// Proof that a fill started at a given point; pass it back to
    /// ``complete(_:storageKey:value:)``.
    struct FillTicket: Sendable {
        fileprivate let sequence: UInt64
        fileprivate let epoch: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var floors: [String: Floor] = [:]
        var sequence: UInt64 = 0
        var epoch: UInt64 = 0
        var suspended = true
        var fillsInFlight: [UInt64: Int] = [:]
    }

    private let clock: any GatewayClock
    private let timeout: TimeInterval
    private let capacity: Int
    private let state = Locked(State())

    /// A cache whose entries are used for at most `timeout` seconds. It
    /// starts suspended: call ``resume()`` once the invalidation
    /// subscription is live.
    init(clock: any GatewayClock, timeout: TimeInterval, capacity: Int = 100_000) {
        self.clock = clock
        self.timeout = timeout
        self.capacity = max(1, capacity)
    }

    /// The cached session, if present, fresh, and the cache is live.
    func lookup(_ storageKey: String) -> VersionedSession? {
        freshEntry(storageKey)?.value
    }

    /// The entry for `storageKey` if the cache is live and it is within its
    /// deadline; a stale one is dropped.
    private func freshEntry(_ storageKey: String) -> Entry? {
        let now = clock.now()
        return state.withLock { s in
            guard !s.suspended, let entry = s.entries[storageKey] else { return nil }
            guard now < entry.deadline else {
                s.entries.removeValue(forKey: storageKey)
                return nil
            }
            return entry
        }
    }

    /// The cached session with its JSON text (rendered once per entry), if
    /// present, fresh, and the cache is live: what `TykGetKeyData` answers.
    func lookupRendered(_ storageKey: String) -> RenderedSession? {
        guard let found = freshEntry(storageKey) else { return nil }
        if let json = found.json { return RenderedSession(found: found.value, json: json) }
        let json = found.value.session.jsonText()
        state.withLock { s in
            // Attach it only to the very entry it was made from.
            if let entry = s.entries[storageKey], entry.value.version == found.value.version, entry.storedAt == found.storedAt {
                s.entries[storageKey]?.json = json
            }
        }
        return RenderedSession(found: found.value, json: json)
    }

    /// Marks the start of a store read or write whose result may fill the
    /// cache; every ticket must be ended by ``complete(_:storageKey:value:)``
    /// or ``stored(_:storageKey:value:)``.
    func beginFill() -> FillTicket {
        state.withLock { s in
            s.sequence += 1
            s.fillsInFlight[s.sequence, default: 0] += 1
            return FillTicket(sequence: s.sequence, epoch: s.epoch)
        }
    }

    /// Ends a fill; `value` (nil when the store had nothing) is cached only
    /// if nothing newer is known. Returns whether it was cached.
    @discardableResult
    func complete(_ ticket: FillTicket, storageKey: String, value: VersionedSession?, ttlSeconds: Double? = nil) -> Bool {
        let now = clock.now()
        return state.withLock { s in
            defer { finish(&s, ticket) }
            guard let value, !s.suspended, ticket.epoch == s.epoch else { return false }
            return insert(&s, storageKey, value, now, ttlSeconds)
        }
    }

    /// Ends a write begun with ``beginFill()``: this node's own write
    /// goes into the cache at once (the cache is updated, not just
    /// dropped) unless something newer is already known. nil (the write
    /// failed or lost) only ends the ticket.
    /// `json`, when given, is the session's JSON text as stored, kept for
    /// `TykGetKeyData` so it is not rendered again.
    func stored(_ ticket: FillTicket, storageKey: String, value: VersionedSession?, json: String? = nil, ttlSeconds: Double? = nil) {
        let now = clock.now()
        state.withLock { s in
            defer { finish(&s, ticket) }
            guard let value else {
                // The write failed or lost. If this node already announced
                // a newer version (``announcedOwnWrite(_:version:)``), the
                // entry it kept will not be replaced now: drop it.
                if let floor = s.floors[storageKey], let entry = s.entries[storageKey], entry.value.version < floor.version {
                    s.entries.removeValue(forKey: storageKey)
                }
                return
            }
            raiseFloor(&s, storageKey, value.version)
            if !s.suspended, ticket.epoch == s.epoch, insert(&s, storageKey, value, now, ttlSeconds) {
                if let json { s.entries[storageKey]?.json = json }
            } else if let entry = s.entries[storageKey], entry.value.version < value.version {
                // Nothing older than an acknowledged write may stay.
                s.entries.removeValue(forKey: storageKey)
            }
        }
    }

    /// This node's own write at `version` was announced before its reply
    /// arrived. Fills older than it are refused from now on, as for any
    /// invalidation, but the entry stays: the write ends in
    /// ``stored(_:storageKey:value:json:ttlSeconds:)`` before it returns,
    /// which replaces the entry, or drops it when the write failed. Until
    /// then the write is not acknowledged to anyone, so serving the entry
    /// is what serving it a moment before the announcement would be; and
    /// while many requests renew one key, its readers keep hitting the
    /// cache instead of reading the store after every renewal.
    func announcedOwnWrite(_ storageKey: String, version: UInt64) {
        state.withLock { s in
            raiseFloor(&s, storageKey, version)
            pruneFloors(&s)
        }
    }

    /// The cached entry whatever its age or the cache's state, for
    /// bookkeeping that must not be mistaken for an answer (metrics).
    func peek(_ storageKey: String) -> VersionedSession? {
        state.withLock { s in s.entries[storageKey]?.value }
    }

    /// A write or delete at `version` happened: drop anything older.
    func invalidate(_ storageKey: String, version: UInt64) {
        state.withLock { s in
            raiseFloor(&s, storageKey, version)
            if let entry = s.entries[storageKey], entry.value.version < version {
                s.entries.removeValue(forKey: storageKey)
            }
            pruneFloors(&s)
        }
    }

    /// The subscription dropped: forget everything and refuse fills.
    func suspend() {
        state.withLock { s in
            s.suspended = true
            Self.startEpoch(&s)
        }
    }

    /// The subscription is live again: start afresh.
    func resume() {
        state.withLock { s in
            s.suspended = false
            Self.startEpoch(&s)
        }
    }

    /// A write failed without saying whether the store applied it (a
    /// timeout, a dropped connection): start afresh, as after a resume, so
    /// neither an entry nor a fill in flight can outlive a record that may
    /// have changed. The store may not have told any node about it.
    func forgetAfterUnknownWrite() {
        state.withLock { s in
            Self.startEpoch(&s)
        }
    }

    /// A new epoch: every entry goes, and fills that began before it are refused.
    private static func startEpoch(_ s: inout State) {
        s.epoch += 1
        s.entries.removeAll()
    }

    /// Whether the cache is serving.
    var isLive: Bool {
        state.withLock { s in !s.suspended }
    }

    /// Number of cached sessions.
    var count: Int {
        state.withLock { s in s.entries.count }
    }

    /// Caches `value` until the cache timeout or the record's own TTL,
    /// whichever is sooner, so a record deleted by its lifetime is not
    /// served from cache afterwards.
    private func insert(_ s: inout State, _ storageKey: String, _ value: VersionedSession, _ now: Date, _ ttlSeconds: Double?) -> Bool {
        if let floor = s.floors[storageKey], value.version < floor.version { return false }
        if let existing = s.entries[storageKey], existing.value.version > value.version { return false }
        if s.entries[storageKey] == nil, s.entries.count >= capacity { evict(&s, now) }
        let lifetime = min(timeout, ttlSeconds ?? timeout)
        guard lifetime > 0 else { return false }
        s.entries[storageKey] = Entry(value: value, storedAt: now, deadline: now.addingTimeInterval(lifetime))
        return true
    }

    private func raiseFloor(_ s: inout State, _ storageKey: String, _ version: UInt64) {
        s.sequence += 1
        let current = s.floors[storageKey]?.version ?? 0
        s.floors[storageKey] = Floor(version: max(current, version), sequence: s.sequence)
    }

    /// Ends a ticket, only after its result was checked against the floors
    /// (ending it first could prune the very floor that must refuse it).
    private func finish(_ s: inout State, _ ticket: FillTicket) {
        if let count = s.fillsInFlight[ticket.sequence] {
            if count <= 1 { s.fillsInFlight.removeValue(forKey: ticket.sequence) } else { s.fillsInFlight[ticket.sequence] = count - 1 }
        }
        pruneFloors(&s)
    }

    /// Floors matter only to fills that began before them.
    private func pruneFloors(_ s: inout State) {
        guard !s.floors.isEmpty else { return }
        guard let oldest = s.fillsInFlight.keys.min() else {
            s.floors.removeAll(keepingCapacity: true)
            return
        }
        if s.floors.count > 1024 {
            s.floors = s.floors.filter { $0.value.sequence > oldest }
        }
    }

    private func evict(_ s: inout State, _ now: Date) {
        s.entries = s.entries.filter { now < $0.value.deadline }
        while s.entries.count >= capacity, let victim = s.entries.keys.first {
            s.entries.removeValue(forKey: victim)
        }
    }
}
