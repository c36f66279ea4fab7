import CoreMetrics
import Foundation
import PortcullisCore

/// What the session layer of one node has done: keys created, renewed and
/// revoked, cache hits and misses of the auth lookup, and the latency of
/// every store operation.
///
/// Each event is recorded through swift-metrics on the factory the node was
/// given (`portcullis_keys_created_total`, `portcullis_store_latency_seconds`,
/// …), so an embedder's own backend sees them; a plain copy of the counts is
/// kept beside them for tests and tools.
public final class SessionStatistics: Sendable {
    /// A copy of the counts at one moment.
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
        /// Store calls by operation (`read`, `write`, `delete`, `quota`, …).
        public var storeCalls: [String: Int] = [:]

        /// All zero.
        public init() {}
    }

    /// The metric names this type records, for exposition help text.
    public enum Name {
        public static let keysCreated = "portcullis_keys_created_total"
        public static let keysRenewed = "portcullis_keys_renewed_total"
        public static let keysRevoked = "portcullis_keys_revoked_total"
        public static let cacheHits = "portcullis_session_cache_hits_total"
        public static let cacheMisses = "portcullis_session_cache_misses_total"
        public static let cacheHitRatio = "portcullis_session_cache_hit_ratio"
        public static let storeLatency = "portcullis_store_latency_seconds"
    }

    private let state = Locked(Snapshot())
    private let factory: any MetricsFactory
    private let created: Counter
    private let renewed: Counter
    private let revoked: Counter
    private let hits: Counter
    private let misses: Counter
    private let hitRatio: Gauge
    private let timers = Locked([String: CoreMetrics.Timer]())

    /// Starts at zero, recording on `factory` (nothing but the snapshot
    /// with the default no-op factory).
    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.factory = factory
        created = Counter(label: Name.keysCreated, factory: factory)
        renewed = Counter(label: Name.keysRenewed, factory: factory)
        revoked = Counter(label: Name.keysRevoked, factory: factory)
        hits = Counter(label: Name.cacheHits, factory: factory)
        misses = Counter(label: Name.cacheMisses, factory: factory)
        hitRatio = Gauge(label: Name.cacheHitRatio, factory: factory)
    }

    /// The counts now.
    public var snapshot: Snapshot { state.value }

    /// Counts a write: created when nothing was replaced, renewed when it
    /// moved `expires` later than `previousExpires` (the replaced record's;
    /// nil when that record could not be read).
    func recordWrite(replacedAnything: Bool, previousExpires: Int64?, newExpires: Int64) {
        guard replacedAnything else {
            state.withLock { $0.keysCreated += 1 }
            created.increment()
            return
        }
        guard let previousExpires, Self.expiresLater(newExpires, than: previousExpires) else { return }
        state.withLock { $0.keysRenewed += 1 }
        renewed.increment()
    }

    func recordRevoked() {
        state.withLock { $0.keysRevoked += 1 }
        revoked.increment()
    }

    func recordCacheLookup(hit: Bool) {
        let ratio = state.withLock { s -> Double in
            if hit { s.cacheHits += 1 } else { s.cacheMisses += 1 }
            return Double(s.cacheHits) / Double(s.cacheHits + s.cacheMisses)
        }
        (hit ? hits : misses).increment()
        hitRatio.record(ratio)
    }

    func recordStoreCall(_ operation: String, nanoseconds: Int64) {
        let timer = timers.withLock { timers -> CoreMetrics.Timer in
            if let known = timers[operation] { return known }
            let made = CoreMetrics.Timer(label: Name.storeLatency, dimensions: [("operation", operation)], factory: factory)
            timers[operation] = made
            return made
        }
        state.withLock { $0.storeCalls[operation, default: 0] += 1 }
        timer.recordNanoseconds(nanoseconds)
    }

    /// `expires` ≤ 0 means never; moving to "never" from a date is a renewal.
    static func expiresLater(_ new: Int64, than old: Int64) -> Bool {
        if old <= 0 { return false }
        return new <= 0 || new > old
    }
}
