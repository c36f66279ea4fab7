import Foundation
import PortcullisCore

/// What the session layer of one node has done, for the gateway's
/// `/metrics`: keys created, renewed and revoked, cache hits and misses of
/// the auth lookup, and the latency of every store operation.
public final class SessionStatistics: Sendable {
    /// A copy of the counters at one moment.
    public struct Snapshot: Sendable, Equatable {
        /// Writes that stored a key that did not exist.
        public var keysCreated = 0
        /// Writes to an existing key that moved its `expires` later (or
        /// made a key that expired never expire).
        public var keysRenewed = 0
        /// Keys deleted or deactivated through the session layer.
        public var keysRevoked = 0
        /// Auth lookups answered by the node-local cache.
        public var cacheHits = 0
        /// Auth lookups that had to read the store.
        public var cacheMisses = 0
        /// Store latency by operation (`read`, `write`, `delete`, `quota`, …).
        public var storeLatency: [String: DurationHistogram] = [:]

        /// All zero.
        public init() {}
    }

    private let state = Locked(Snapshot())

    /// Starts at zero.
    public init() {}

    /// The counters now.
    public var snapshot: Snapshot { state.value }

    /// Counts a write: created when nothing was replaced, renewed when it
    /// moved `expires` later than `previousExpires` (the replaced record's;
    /// nil when that record could not be read).
    func recordWrite(replacedAnything: Bool, previousExpires: Int64?, newExpires: Int64) {
        guard replacedAnything else {
            state.withLock { $0.keysCreated += 1 }
            return
        }
        guard let previousExpires else { return }
        if Self.expiresLater(newExpires, than: previousExpires) { state.withLock { $0.keysRenewed += 1 } }
    }

    func recordRevoked() { state.withLock { $0.keysRevoked += 1 } }

    func recordCacheLookup(hit: Bool) {
        state.withLock { hit ? ($0.cacheHits += 1) : ($0.cacheMisses += 1) }
    }

    func recordStoreCall(_ operation: String, seconds: Double) {
        state.withLock { $0.storeLatency[operation, default: DurationHistogram()].observe(seconds) }
    }

    /// `expires` ≤ 0 means never; moving to "never" from a date is a renewal.
    static func expiresLater(_ new: Int64, than old: Int64) -> Bool {
        if old <= 0 { return false }
        return new <= 0 || new > old
    }
}
