import Foundation
import PortcullisCore

/// A plugin's session write made on the calling thread
/// (``SessionManager/writeFromPluginImmediately(key:json:suppressReset:overlay:)``).
public enum ImmediateWrite: Sendable {
    /// Stored, cached and in the overlay; no other node had to confirm.
    case written(VersionedSession)
    /// Stored, cached and in the overlay; the closure waits for the other
    /// nodes' confirmations and throws unless every one came.
    case confirming(@Sendable () async throws -> VersionedSession)
    /// Nothing was written: the write has to take the waiting path.
    case mustWait
}

extension SessionManager {
    /// `TykSetKeyData(key, json, suppressReset)`: decodes the session and
    /// stores it like ``addOrUpdate(key:session:suppressReset:overlay:)``.
    /// Returns only after the store acknowledged the write and every node
    /// confirmed the invalidation; the overlay (if given) holds the new
    /// session for the rest of the request. Every refusal throws.
    @discardableResult
    public func writeFromPlugin(key: String, json: String, suppressReset: Bool, overlay: SessionOverlay? = nil) async throws -> VersionedSession {
        try await addOrUpdate(key: key, session: try pluginSession(key: key, json: json), suppressReset: suppressReset, overlay: overlay)
    }

    /// The session a plugin passed as text; a refusal is logged and thrown.
    private func pluginSession(key: String, json: String) throws -> SessionState {
        do {
            return try SessionState(jsonText: json)
        } catch let error as SessionDecodingError {
            logger.error("TykSetKeyData refused", metadata: ["key": .string(KeyMask.mask(key)), "reason": .string(error.description)])
            throw SessionError.invalidSession(key: KeyMask.mask(key), reason: error)
        }
    }

    /// Tyk's `doAddOrUpdate` (REST API and `TykSetKeyData`): refuses empty
    /// `access_rights` unless master keys are allowed; unless
    /// `suppressReset`, sets `last_updated` to now and resets the quota
    /// (deletes `quota-<key>`, `quota_remaining = quota_max`,
    /// `quota_renews = now + quota_renewal_rate`) — skipped only when every
    /// API of the session sets `dont_set_quota_on_create`; applies the
    /// largest lifetime of the session's APIs as the store TTL; writes
    /// unconditionally under a new version. A key with `apply_policies` is
    /// stored as given and judged by what its policies grant; a new one
    /// under a policy with `key_expires_in` (a trial period) expires then,
    /// unless `trialPeriod` is false (the caller has set `expires` itself).
    @discardableResult
    public func addOrUpdate(key: String, session: SessionState, suppressReset: Bool, overlay: SessionOverlay? = nil,
                            trialPeriod: Bool = true) async throws -> VersionedSession {
        guard let written = try await persist(key: key, session: session, suppressReset: suppressReset, condition: .always, overlay: overlay,
                                              trialPeriod: trialPeriod) else {
            throw SessionError.tooManyConflicts(key: KeyMask.mask(key), attempts: 1)
        }
        return written
    }

    /// Read-modify-write of a stored session (admin updates): `modify`
    /// runs on the current record and the result is stored only if nobody
    /// wrote in between; otherwise it is retried on the newer record.
    @discardableResult
    public func update(key: String, suppressReset: Bool = true, overlay: SessionOverlay? = nil,
                       _ modify: @Sendable (inout SessionState) throws -> Void) async throws -> VersionedSession {
        let attempts = 5
        for _ in 0..<attempts {
            guard let current = try await keyData(key: key) else { throw SessionError.notFound(key: KeyMask.mask(key)) }
            var session = current.session
            try modify(&session)
            if let written = try await persist(key: key, session: session, suppressReset: suppressReset,
                                               condition: .ifVersion(current.version), overlay: overlay) {
                return written
            }
        }
        throw SessionError.tooManyConflicts(key: KeyMask.mask(key), attempts: attempts)
    }

    /// Revokes a key by marking it inactive (403 "Key is inactive, please
    /// renew" on every node once this returns).
    @discardableResult
    public func deactivate(key: String) async throws -> VersionedSession {
        let written = try await update(key: key) { $0.isInactive = true }
        statistics.recordRevoked()
        return written
    }

    /// Deletes a key. When this returns, every live node has dropped it
    /// from its cache, and requests that read it earlier cannot put it
    /// back. Returns whether a record existed.
    @discardableResult
    public func delete(key: String, overlay: SessionOverlay? = nil) async throws -> Bool {
        guard !key.isEmpty else { throw SessionError.emptyKey }
        return try await deleteRecord(storageKey: storageKey(for: key), key: key, overlay: overlay)
    }

    /// Bulk revocation: deletes every stored session that `matches`
    /// accepts (e.g. all keys of an org or alias). Each deletion is
    /// confirmed by every node before the next, as ``delete(key:overlay:)``,
    /// so when this returns no node serves any of them. Returns how many
    /// were deleted. Records that cannot be decoded are skipped and logged.
    public func revokeAll(where matches: @Sendable (SessionState) -> Bool) async throws -> Int {
        let names = try await storeCall("*", "scan") { try await store.keys(withPrefix: KeyNaming.sessionPrefix) }
        var revoked = 0
        for storageKey in names.sorted() {
            let label = String(storageKey.dropFirst(KeyNaming.sessionPrefix.count))
            guard let record = try await storeCall(label, "read", { try await store.readSession(key: storageKey) }) else { continue }
            guard let session = try? SessionState(jsonText: record.body) else {
                logger.warning("bulk revocation skipped a record that is not a session", metadata: ["key": .string(KeyMask.mask(label))])
                continue
            }
            guard matches(session) else { continue }
            if try await deleteRecord(storageKey: storageKey, key: label, overlay: nil) { revoked += 1 }
        }
        logger.info("Keys revoked in bulk.", metadata: ["revoked": .stringConvertible(revoked)])
        return revoked
    }

    private func deleteRecord(storageKey: String, key: String, overlay: SessionOverlay?) async throws -> Bool {
        let outcome = try await storeCall(key, "delete") { try await store.deleteSession(key: storageKey) }
        cache?.invalidate(storageKey, version: outcome.version)
        overlay?.remove(storageKey: storageKey)
        logger.info("Key deleted.", metadata: ["key": .string(KeyMask.mask(key)), "existed": .stringConvertible(outcome.existed)])
        try await announce(key, storageKey: storageKey, version: outcome.version, acknowledged: true)
        if outcome.existed { statistics.recordRevoked() }
        return outcome.existed
    }

    /// The gateway's own write-back of a request's session (meta_data from
    /// a hook, quota bookkeeping), as Tyk's `UpdateRequestSession`. It
    /// replaces the record only if it is still at `baseVersion` — a renewal
    /// or revocation that happened meanwhile wins. The lifetime is the
    /// current API's. With `use_async_session_write` it is queued and
    /// ``WriteBackResult/deferred`` returned; a plugin's write is never
    /// deferred.
    @discardableResult
    public func writeBack(key: String, session: SessionState, baseVersion: UInt64, apiID: String?) async throws -> WriteBackResult {
        guard !key.isEmpty else { throw SessionError.emptyKey }
        let storageKey = storageKey(for: key)
        let api = apiID.map { configuration.apiSettings($0) ?? APISessionSettings(apiID: $0) }
        let ttl = configuration.lifetime.lifetime(for: session, api: api, now: clock.unixSeconds())
        let work: @Sendable () async throws -> WriteBackResult = { [self] in
            let ticket = cache?.beginFill()
            var cached: VersionedSession?
            defer { if let ticket { cache?.stored(ticket, storageKey: storageKey, value: cached, ttlSeconds: ttl > 0 ? Double(ttl) : nil) } }
            let outcome = try await storeCall(key, "write-back") {
                try await store.writeSession(key: storageKey, body: session.jsonText(), ttlSeconds: max(0, ttl), condition: .ifVersion(baseVersion))
            }
            switch outcome {
            case .written(let version, _):
                cached = VersionedSession(session: session, version: version)
                try await announce(key, storageKey: storageKey, version: version, acknowledged: false)
                return .written(version: version)
            case .conflict(let current):
                logger.debug("session write-back superseded by a newer record", metadata: [
                    "key": .string(KeyMask.mask(key)), "base": .stringConvertible(baseVersion), "current": .string(current.map(String.init) ?? "deleted"),
                ])
                return .superseded
            }
        }
        guard configuration.useAsyncSessionWrite else { return try await work() }
        let id = UUID()
        let task = Task { [self] in
            do {
                _ = try await work()
            } catch {
                logger.error("deferred session write-back failed", metadata: ["key": .string(KeyMask.mask(key)), "error": .string("\(error)")])
            }
            _ = pendingWrites.withLock { $0.removeValue(forKey: id) }
        }
        pendingWrites.withLock { $0[id] = task }
        return .deferred
    }

    /// Waits for every deferred write-back queued so far.
    public func flushPendingWrites() async {
        let tasks = pendingWrites.withLock { Array($0.values) }
        for task in tasks { await task.value }
    }

    /// Shared write path; nil when a conditional write lost to a newer record.
    private func persist(key: String, session input: SessionState, suppressReset: Bool,
                         condition: SessionWriteCondition, overlay: SessionOverlay?, trialPeriod: Bool = true) async throws -> VersionedSession? {
        guard !key.isEmpty else { throw SessionError.emptyKey }
        var session = input
        if trialPeriod, condition == .always, let trial = policies(of: input)?.trialPeriod(for: input), try await keyData(key: key) == nil {
            // Tyk's trial period: a new key under such a policy expires after it.
            session.expires = clock.unixSeconds() + trial
        }
        let write = try prepareWrite(key: key, session: session, suppressReset: suppressReset, announcing: announcingStore != nil)
        let outcome: SessionWriteOutcome
        var receipt = AnnouncementReceipt(receivers: 0)
        do {
            if let announcing = announcingStore, let pending = write.pending {
                (outcome, receipt) = try await storeCall(key, "write") {
                    try await announcing.writeSession(key: write.storageKey, body: write.body, ttlSeconds: max(0, write.ttl),
                                                      condition: condition, deleting: write.resetting, announcing: pending.announcement)
                }
            } else {
                outcome = try await storeCall(key, "write") {
                    try await store.writeSession(key: write.storageKey, body: write.body, ttlSeconds: max(0, write.ttl),
                                                 condition: condition, deleting: write.resetting)
                }
            }
        } catch {
            abandon(write)
            throw error
        }
        guard let written = finish(write, outcome, overlay: overlay) else { return nil }
        if let pending = write.pending {
            try confirmed(key, await bus.confirmations(of: pending, receipt: receipt))
        } else {
            try await announce(key, storageKey: write.storageKey, version: written.version, acknowledged: true)
        }
        return written
    }

    /// `TykSetKeyData` done on the calling thread when nothing in it has to
    /// wait: the store writes here and now (``ImmediateSessionWrites``), no
    /// trial period needs the stored record first, and at most the wait for
    /// other nodes' confirmations is left, returned as ``ImmediateWrite/confirming(_:)``.
    /// Otherwise ``ImmediateWrite/mustWait``, having written nothing: the
    /// caller then runs ``writeFromPlugin(key:json:suppressReset:overlay:)``.
    /// Refusals throw as that one does.
    public func writeFromPluginImmediately(key: String, json: String, suppressReset: Bool, overlay: SessionOverlay? = nil) throws -> ImmediateWrite {
        guard let immediate = immediateWrites, immediate.writesOnCallingThread else { return .mustWait }
        guard !key.isEmpty else { throw SessionError.emptyKey }
        let session = try pluginSession(key: key, json: json)
        if policies(of: session)?.trialPeriod(for: session) != nil { return .mustWait }
        let write = try prepareWrite(key: key, session: session, suppressReset: suppressReset, announcing: true)
        guard let pending = write.pending else {
            release(write)
            return .mustWait
        }
        let answer: ImmediateResult<(SessionWriteOutcome, AnnouncementReceipt)>
        do {
            answer = try storeCallNow(key, "write") {
                try immediate.writeSessionImmediately(key: write.storageKey, body: write.body, ttlSeconds: max(0, write.ttl),
                                                      condition: .always, deleting: write.resetting, announcing: pending.announcement)
            }
        } catch {
            abandon(write)
            throw error
        }
        guard case .ready(let (outcome, receipt)) = answer else {
            // Nothing was written: the waiting path starts afresh.
            release(write)
            return .mustWait
        }
        guard let written = finish(write, outcome, overlay: overlay) else {
            throw SessionError.tooManyConflicts(key: KeyMask.mask(key), attempts: 1)
        }
        guard bus.awaitsConfirmations(of: pending, receipt: receipt) else { return .written(written) }
        return .confirming { [self] in
            try confirmed(key, await bus.confirmations(of: pending, receipt: receipt))
            return written
        }
    }

    /// Whether ``writeFromPluginImmediately(key:json:suppressReset:overlay:)``
    /// can write on the calling thread; when not, it answers
    /// ``ImmediateWrite/mustWait`` before decoding anything, so a caller
    /// that checks first need not repeat its own preparation either.
    public var writesPluginSessionsOnCallingThread: Bool {
        immediateWrites?.writesOnCallingThread ?? false
    }

    /// The policies a session is judged by, when it names any.
    private func policies(of session: SessionState) -> PolicySet? {
        session.policyIDs.isEmpty ? nil : configuration.policies()
    }

    /// What a write sends to the store and needs again once it returns,
    /// decided before the store is called.
    private struct PreparedWrite {
        let key: String
        let storageKey: String
        let session: SessionState
        let body: String
        let ttl: Int64
        let resetting: [String]
        let ticket: SessionCache.FillTicket?
        let pending: InvalidationBus.Pending?
    }

    /// Judges the session (master keys, policies), applies Tyk's quota
    /// reset unless `suppressReset`, and takes the cache ticket and, for an
    /// announcing store, the invalidation's nonce.
    private func prepareWrite(key: String, session input: SessionState, suppressReset: Bool, announcing: Bool) throws -> PreparedWrite {
        // A key under policies is judged by what they grant; one whose
        // policies are not loaded yet is stored and refused when used.
        let policies = policies(of: input)
        let granted = policies.flatMap { try? $0.apply(to: input, apiOrgID: nil) } ?? input
        guard !granted.accessRights.isEmpty || policies != nil || configuration.allowMasterKeys else {
            logger.error("Master keys not allowed", metadata: ["key": .string(KeyMask.mask(key))])
            throw SessionError.masterKeysNotAllowed(key: KeyMask.mask(key))
        }
        var session = input
        let now = clock.unixSeconds()
        let apis = apiSettings(for: granted)
        var resetting: [String] = []
        if !suppressReset {
            session.lastUpdated = String(now)
            if apis.isEmpty || apis.contains(where: { !$0.dontSetQuotaOnCreate }) {
                // The quota counter is deleted by the write itself.
                resetting = [configuration.naming.quotaKey(key)]
                let scopes = Set(granted.accessRights.values.map(\.allowanceScope).filter { !$0.isEmpty })
                resetting += scopes.sorted().map { configuration.naming.quotaKey(key, scope: $0) }
                session.quotaRemaining = granted.quotaMax
                session.quotaRenews = now + granted.quotaRenewalRate
                logger.info("Reset quota for key.", metadata: ["inbound-key": .string(KeyMask.mask(key))])
            }
        }
        var judged = granted
        judged.expires = session.expires
        let ticket = cache?.beginFill()
        let storageKey = storageKey(for: key)
        let body = session.jsonText()
        recentWrites.note(storageKey, body: body, expires: session.expires)
        return PreparedWrite(key: key, storageKey: storageKey, session: session, body: body,
                             ttl: configuration.lifetime.lifetime(for: judged, apis: apis, now: now), resetting: resetting,
                             ticket: ticket,
                             // A store that can publishes the invalidation with the write itself.
                             pending: announcing ? bus.prepare(updatesCache: ticket != nil) : nil)
    }

    /// The write did not happen: its nonce and its cache ticket are given up.
    private func release(_ write: PreparedWrite) {
        if let pending = write.pending { bus.cancel(pending) }
        if let ticket = write.ticket { cache?.stored(ticket, storageKey: write.storageKey, value: nil) }
    }

    /// The store refused or failed: nothing of the write is kept.
    private func abandon(_ write: PreparedWrite) {
        release(write)
        // The write may have been applied without this node hearing of
        // it: an announcing write publishes nothing when this node is
        // the only subscriber, so no message of its own would drop the entry.
        if write.pending != nil { cache?.forgetAfterUnknownWrite() }
    }

    /// Records what the store did: counts, this node's cache, the request's
    /// overlay. Nil when a conditional write lost to a newer record.
    private func finish(_ write: PreparedWrite, _ outcome: SessionWriteOutcome, overlay: SessionOverlay?) -> VersionedSession? {
        guard case .written(let version, let replaced) = outcome else {
            release(write)
            return nil
        }
        statistics.recordWrite(replacedAnything: replaced != nil,
                               previousExpires: replaced.flatMap { previousExpires(write.key, write.storageKey, $0) },
                               newExpires: write.session.expires)
        let written = VersionedSession(session: write.session, version: version)
        if let ticket = write.ticket {
            cache?.stored(ticket, storageKey: write.storageKey, value: written, json: write.body, ttlSeconds: write.ttl > 0 ? Double(write.ttl) : nil)
        }
        overlay?.record(storageKey: write.storageKey, written)
        logger.info("Key added or updated.", metadata: [
            "key": .string(KeyMask.mask(write.key)), "expires": .stringConvertible(write.session.expires), "lifetime": .stringConvertible(write.ttl),
        ])
        return written
    }

    /// `expires` of the record a write replaced, for the renewal count:
    /// from this node's cache or the last rendering when they hold that
    /// very version, from this node's own recent writes when it is one of
    /// them, decoded only otherwise.
    private func previousExpires(_ key: String, _ storageKey: String, _ replaced: StoredSession) -> Int64? {
        if let cached = cache?.peek(storageKey), cached.version == replaced.version { return cached.session.expires }
        if let known = rendered.known(key, replaced) { return known.found.session.expires }
        if let written = recentWrites.expires(storageKey, body: replaced.body) { return written }
        // Only the one field is needed, not the whole session.
        switch JSONReader.topLevelField("expires", in: replaced.body) {
        case .int(let expires)?: return expires
        default: return (try? SessionState(jsonText: replaced.body))?.expires
        }
    }
}
