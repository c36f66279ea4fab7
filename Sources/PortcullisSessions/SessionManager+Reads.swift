import PortcullisCore

extension SessionManager {
    /// The auth stage's lookup: overlay → cache → store. A session found in
    /// the overlay or cache is returned only if it would be accepted;
    /// anything that would be refused (missing, expired, inactive) is read
    /// again from the store, and that answer decides. Throws
    /// ``SessionError`` when the store cannot answer (fail closed: 503).
    public func sessionForAuth(key: String, overlay: SessionOverlay? = nil) async throws -> SessionLookup {
        guard !key.isEmpty else { return .notFound }
        let storageKey = storageKey(for: key)
        let now = clock.unixSeconds()
        if let written = overlay?.entry(storageKey: storageKey), Self.accepts(written.session, now) {
            return .valid(written, source: .overlay)
        }
        if let cached = cache?.lookup(storageKey), Self.accepts(cached.session, now) {
            statistics.recordCacheLookup(hit: true)
            return .valid(cached, source: .cache)
        }
        statistics.recordCacheLookup(hit: false)
        guard let current = try await readThroughCache(key, storageKey, { record in
            let decoded = try decode(key, record)
            return (decoded, decoded)
        }) else {
            logger.debug("key not found", metadata: ["key": .string(KeyMask.mask(key))])
            return .notFound
        }
        if current.session.isInactive { return .inactive(current) }
        if current.session.isExpired(at: now) {
            logger.info("Attempted access from expired key.", metadata: ["key": .string(KeyMask.mask(key))])
            return .expired(current)
        }
        return .valid(current, source: .store)
    }

    /// The auth lookup when it needs no store round trip: the session from
    /// the overlay or this node's coherent cache, only when it would be
    /// accepted. nil means "ask ``sessionForAuth(key:overlay:)``" — a miss,
    /// or a rejection that rule 4 says must be confirmed against the store.
    public func acceptedWithoutStore(key: String, overlay: SessionOverlay?) -> VersionedSession? {
        guard !key.isEmpty, cache != nil || (overlay?.count ?? 0) > 0 else { return nil }
        let storageKey = storageKey(for: key)
        let now = clock.unixSeconds()
        if let written = overlay?.entry(storageKey: storageKey), Self.accepts(written.session, now) {
            return written
        }
        if let cached = cache?.lookup(storageKey), Self.accepts(cached.session, now) {
            statistics.recordCacheLookup(hit: true)
            return cached
        }
        return nil
    }

    /// `TykGetKeyData` / admin read: the stored session, straight from the
    /// store (never the cache), expired or not; nil when there is none.
    public func keyData(key: String) async throws -> VersionedSession? {
        try await renderedKeyData(key: key)?.found
    }

    /// ``keyData(key:)`` with the session's JSON text, as `TykGetKeyData`
    /// returns it; an unchanged record is rendered once, not on every read.
    public func renderedKeyData(key: String) async throws -> RenderedSession? {
        guard !key.isEmpty else { return nil }
        let storageKey = storageKey(for: key)
        guard let record = try await storeCall(key, "read", { try await store.readSession(key: storageKey) }) else { return nil }
        return try rendered.rendered(key, record) { try decode(key, record) }
    }

    /// `TykGetKeyData`: the session from this node's coherent cache when it
    /// holds it (no store round trip), else read from the store — the read
    /// then fills the cache for the auth stage that follows. Expired
    /// sessions are returned as they are; nil when there is none.
    ///
    /// The cache can answer because it is coherent by the contract: every
    /// write anywhere is acknowledged by every node's cache before it
    /// returns (rule 7), and a node that lost its subscription serves
    /// nothing from its cache.
    public func pluginKeyData(key: String) async throws -> RenderedSession? {
        guard !key.isEmpty else { return nil }
        let storageKey = storageKey(for: key)
        if let hit = cache?.lookupRendered(storageKey) {
            statistics.recordCacheLookup(hit: true)
            return hit
        }
        guard cache != nil else { return try await renderedKeyData(key: key) }
        statistics.recordCacheLookup(hit: false)
        return try await readThroughCache(key, storageKey) { record in
            let answer = try rendered.rendered(key, record) { try decode(key, record) }
            return (answer.found, answer)
        }
    }

    /// ``pluginKeyData(key:)`` without waiting: a coherent cache hit, or a
    /// store that answers reads in-process (the memory store);
    /// ``ImmediateResult/mustWait`` otherwise (a Redis read).
    public func renderedKeyDataImmediately(key: String) throws -> ImmediateResult<RenderedSession?> {
        guard !key.isEmpty else { return .ready(nil) }
        let storageKey = storageKey(for: key)
        if let hit = cache?.lookupRendered(storageKey) {
            statistics.recordCacheLookup(hit: true)
            return .ready(hit)
        }
        guard let local = immediateReads else { return .mustWait }
        let started = ContinuousClock.now
        let read: ImmediateResult<StoredSession?>
        do {
            read = try local.readSessionImmediately(key: storageKey)
        } catch let error as SessionStoreError {
            throw storeFailure(key, "read", error)
        }
        guard case .ready(let record) = read else { return .mustWait }
        statistics.recordStoreCall("read", nanoseconds: (ContinuousClock.now - started).nanosecondsValue)
        guard let record else { return .ready(nil) }
        return .ready(try rendered.rendered(key, record) { try decode(key, record) })
    }

    /// `TykGetKeyData`'s string answer: the session JSON, or Tyk's
    /// `{"status":"error","message":"Key not found"}`.
    public func keyDataJSON(key: String) async throws -> String {
        guard let found = try await pluginKeyData(key: key) else {
            return #"{"status":"error","message":"Key not found"}"#
        }
        return found.json
    }

    /// Counts one request against the key's quota (counter `quota-<key>`).
    public func consumeQuota(key: String, session: SessionState) async throws -> QuotaDecision {
        try await storeCall(key, "quota") { try await quota.consume(key: key, session: session) }
    }

    /// Counts one request against `quota` (counter `quota-<key>`, or
    /// `quota-<scope>-<key>` for a scoped one).
    public func consumeQuota(key: String, quota settings: QuotaSettings) async throws -> QuotaDecision {
        try await storeCall(key, "quota") { try await quota.consume(key: key, quota: settings) }
    }

    /// Reads the store and offers the result to the cache (which refuses
    /// it if a newer version is known). `make` turns the record into the
    /// session the cache keeps and the caller's answer.
    private func readThroughCache<Answer>(_ key: String, _ storageKey: String,
                                          _ make: (StoredSession) throws -> (VersionedSession, Answer)) async throws -> Answer? {
        let ticket = cache?.beginFill()
        var filled: VersionedSession?
        var ttl: Double?
        defer {
            if let ticket { cache?.complete(ticket, storageKey: storageKey, value: filled, ttlSeconds: ttl) }
        }
        guard let record = try await storeCall(key, "read", { try await store.readSession(key: storageKey) }) else { return nil }
        let (session, answer) = try make(record)
        filled = session
        ttl = record.ttlSeconds
        return answer
    }

    private static func accepts(_ session: SessionState, _ now: Int64) -> Bool {
        !session.isInactive && !session.isExpired(at: now)
    }
}
