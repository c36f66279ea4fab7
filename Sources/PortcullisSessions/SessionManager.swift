import Foundation
import Logging
import PortcullisCore
import Tracing

/// The session layer one gateway node uses: plugin writes, admin writes and
/// revocations, the auth stage's lookups, the request write-back and quota.
/// It keeps the consistency contract (DESIGN.md):
///
/// 1. A plugin write returns only after the store acknowledged it
///    (``writeFromPlugin(key:json:suppressReset:overlay:)``), and after
///    every live node confirmed dropping its cached copy.
/// 2. The request's ``SessionOverlay`` sees the write at once.
/// 3. This node's cache is updated with the new version; other nodes drop
///    theirs through the store's pub/sub.
/// 4. A cache (or overlay) may only say yes: ``sessionForAuth(key:overlay:)``
///    confirms every rejection against the store.
/// 5. Store failures surface as ``SessionError/storeFailed(key:operation:cause:)``
///    — callers fail closed.
/// 6. Versions: a write-back or cache fill based on an older read can
///    never replace a newer record (``SessionCache``, ``StoredSession``).
/// 7. Revocation (``delete(key:)``, ``deactivate(key:)``) waits for every
///    node's confirmation; a node whose subscription dropped serves nothing
///    from its cache until it has resubscribed.
/// 8. One name per key (``KeyNaming``) for store, cache and invalidation.
public final class SessionManager: Sendable {
    let store: any SessionStore
    /// The store as one that publishes a write's invalidation with the
    /// write, when it is one; cast once here, not on every write.
    let announcingStore: (any AnnouncingSessionWrites)?
    /// The store as one that reads, and one that writes, on the calling
    /// thread when it can; cast once here as well.
    let immediateReads: (any ImmediateSessionReads)?
    let immediateWrites: (any ImmediateSessionWrites)?
    let clock: any GatewayClock
    let configuration: SessionManagerConfiguration
    let logger: Logger
    let cache: SessionCache?
    let bus: InvalidationBus
    let quota: QuotaLimiter
    let pendingWrites = Locked([UUID: Task<Void, Never>]())
    /// Stored records already decoded and rendered for `TykGetKeyData`.
    let rendered = RenderedSessionMemo()
    /// What this node wrote last for each key, for the renewal count.
    let recentWrites = RecentWriteMemo()
    /// Keys created, renewed and revoked, cache hits and store latency on this node.
    public let statistics: SessionStatistics

    /// Creates the session layer of one node on `store`. Call ``start()``
    /// before serving so invalidations arrive.
    public init(store: any SessionStore, clock: any GatewayClock = SystemClock(),
                configuration: SessionManagerConfiguration = SessionManagerConfiguration(),
                logger: Logger = Logger(label: "portcullis.sessions")) {
        self.store = store
        self.announcingStore = store as? any AnnouncingSessionWrites
        self.immediateReads = store as? any ImmediateSessionReads
        self.immediateWrites = store as? any ImmediateSessionWrites
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
        self.statistics = SessionStatistics(factory: configuration.metricsFactory)
        let cache = configuration.disableCachedSessionState
            ? nil
            : SessionCache(clock: clock, timeout: configuration.cachedSessionTimeout)
        self.cache = cache
        self.bus = InvalidationBus(store: store, nodeID: configuration.nodeID, timeout: configuration.invalidationTimeout,
                                   cache: cache, logger: logger)
        self.quota = QuotaLimiter(store: store, naming: configuration.naming, clock: clock, logger: logger)
    }

    /// Subscribes to invalidations. Returns once subscribed, or after the
    /// invalidation timeout if the store is unreachable (the cache stays
    /// bypassed until the subscription comes up by itself).
    public func start() async throws {
        try await bus.start()
    }

    /// Finishes deferred writes and unsubscribes.
    public func stop() async {
        await flushPendingWrites()
        bus.stop()
    }

    /// Whether the node-local cache is currently serving (on, and the
    /// invalidation subscription live).
    public var isCacheLive: Bool {
        cache?.isLive ?? false
    }

    /// Number of sessions in the node-local cache.
    public var cachedSessionCount: Int {
        cache?.count ?? 0
    }

    /// The store name of `key`'s session record (`apikey-…`).
    public func storageKey(for key: String) -> String {
        configuration.naming.sessionKey(key)
    }

    /// Runs a store operation, turning its failure into ``SessionError``.
    func storeCall<T: Sendable>(_ key: String, _ operation: String, _ body: () async throws -> T) async throws -> T {
        let call = StoreCall(self, operation)
        defer { call.end() }
        do {
            return try await body()
        } catch let error as SessionStoreError {
            throw call.failed(key, error)
        }
    }

    /// ``storeCall(_:_:_:)`` for a store operation done on the calling thread.
    func storeCallNow<T>(_ key: String, _ operation: String, _ body: () throws -> T) throws -> T {
        let call = StoreCall(self, operation)
        defer { call.end() }
        do {
            return try body()
        } catch let error as SessionStoreError {
            throw call.failed(key, error)
        }
    }

    /// One store operation's timing and span, for the statistics and the trace.
    private struct StoreCall {
        let manager: SessionManager
        let operation: String
        let started = ContinuousClock.now
        let span: (any Span)?

        init(_ manager: SessionManager, _ operation: String) {
            self.manager = manager
            self.operation = operation
            self.span = manager.configuration.storeSpan(operation)
        }

        func end() {
            manager.statistics.recordStoreCall(operation, nanoseconds: (ContinuousClock.now - started).nanosecondsValue)
            span?.end()
        }

        func failed(_ key: String, _ error: SessionStoreError) -> SessionError {
            span?.setStatus(SpanStatus(code: .error, message: error.description))
            return manager.storeFailure(key, operation, error)
        }
    }

    /// Logs a store failure and turns it into the error callers fail closed on.
    func storeFailure(_ key: String, _ operation: String, _ error: SessionStoreError) -> SessionError {
        logger.error("session store failed", metadata: ["key": .string(KeyMask.mask(key)), "operation": .string(operation), "error": .string(error.description)])
        return SessionError.storeFailed(key: KeyMask.mask(key), operation: operation, cause: error)
    }

    /// Announces a change; with `acknowledged`, throws unless every node confirmed.
    func announce(_ key: String, storageKey: String, version: UInt64, acknowledged: Bool) async throws {
        try confirmed(key, try await storeCall(key, "invalidation") {
            try await bus.announce(storageKey: storageKey, version: version, acknowledged: acknowledged)
        })
    }

    /// Throws unless every node that received the invalidation confirmed it.
    func confirmed(_ key: String, _ counts: (received: Int, expected: Int)) throws {
        let (received, expected) = counts
        if received < expected {
            logger.error("cache invalidation not confirmed by every node", metadata: [
                "key": .string(KeyMask.mask(key)), "acknowledged": .stringConvertible(received), "expected": .stringConvertible(expected),
            ])
            throw SessionError.invalidationNotAcknowledged(key: KeyMask.mask(key), acknowledged: received, expected: expected)
        }
    }

    /// Decodes a stored record.
    func decode(_ key: String, _ record: StoredSession) throws -> VersionedSession {
        do {
            return VersionedSession(session: try SessionState(jsonText: record.body), version: record.version)
        } catch let error as SessionDecodingError {
            throw SessionError.corruptRecord(key: KeyMask.mask(key), reason: error)
        }
    }

    /// The API settings for each API in the session's `access_rights`.
    func apiSettings(for session: SessionState) -> [APISessionSettings] {
        session.accessRights.keys.sorted().map { configuration.apiSettings($0) ?? APISessionSettings(apiID: $0) }
    }
}
