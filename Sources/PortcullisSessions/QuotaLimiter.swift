import Logging
import PortcullisCore

/// The outcome of counting one request against a key's quota.
public enum QuotaDecision: Sendable, Equatable {
    /// The key has no quota (`quota_max` 0 or -1).
    case unlimited
    /// Allowed; `remaining` requests left until `renews` (Unix seconds).
    case allowed(remaining: Int64, renews: Int64)
    /// Refused with 403 "Quota exceeded" until `renews`.
    case exceeded(renews: Int64)
}

/// Counts requests against `quota_max` per `quota_renewal_rate` window in
/// the store counter `quota-<key>`.
///
/// The counter is created with a TTL equal to the window, and the
/// increment script re-applies that TTL to a counter found without one,
/// so a window always ends by itself. The repair Tyk ≤ 5.5 logged as
/// "Incorrect key expiry setting detected, correcting" (reference §7: the
/// counter is exceeded although `quota_renews` has passed) is therefore
/// rare, but still handled the same way: with a positive renewal rate the
/// window is reset, the request allowed, and that line logged as a warning.
public struct QuotaLimiter: Sendable {
    private let store: any SessionStore
    private let naming: KeyNaming
    private let clock: any GatewayClock
    private let logger: Logger

    /// Creates a limiter on `store`.
    public init(store: any SessionStore, naming: KeyNaming, clock: any GatewayClock, logger: Logger = Logger(label: "portcullis.sessions.quota")) {
        self.store = store
        self.naming = naming
        self.clock = clock
        self.logger = logger
    }

    /// Counts one request for `key` with `session`'s own quota settings.
    public func consume(key: String, session: SessionState) async throws -> QuotaDecision {
        try await consume(key: key, quota: QuotaSettings(max: session.quotaMax, renewalRate: session.quotaRenewalRate,
                                                          renews: session.quotaRenews, scope: ""))
    }

    /// Counts one request for `key` against `quota`.
    public func consume(key: String, quota: QuotaSettings) async throws -> QuotaDecision {
        guard quota.max > 0 else { return .unlimited }
        let counterKey = naming.quotaKey(key, scope: quota.scope)
        let window = max(0, quota.renewalRate)
        let now = clock.unixSeconds()
        let count = try await store.increment(key: counterKey, ttlSecondsOnCreate: window, repairMissingTTL: true)
        if count == 1 {
            return .allowed(remaining: quota.max - 1, renews: now + window)
        }
        if count - 1 >= quota.max {
            // A scoped counter's window end is not recorded in the key; its TTL ends it.
            let windowPassed = quota.scope.isEmpty ? now > quota.renews : (quota.renews > 0 && now > quota.renews)
            if windowPassed, window > 0 {
                logger.warning("Incorrect key expiry setting detected, correcting", metadata: [
                    "key": .string(KeyMask.mask(key)), "counter": .string(KeyNaming.quotaPrefix + KeyMask.mask(naming.storedName(key))),
                ])
                _ = try await store.deleteValue(forKey: counterKey)
                let fresh = try await store.increment(key: counterKey, ttlSecondsOnCreate: window, repairMissingTTL: true)
                return .allowed(remaining: max(0, quota.max - fresh), renews: now + window)
            }
            return .exceeded(renews: quota.renews)
        }
        let renews = quota.renews > now ? quota.renews : now + window
        return .allowed(remaining: quota.max - count, renews: renews)
    }
}

/// One quota to count against: a key's own, or an API's under a policy.
public struct QuotaSettings: Sendable, Equatable {
    /// `quota_max`.
    public var max: Int64
    /// `quota_renewal_rate`: the window in seconds.
    public var renewalRate: Int64
    /// `quota_renews`: when the current window ends, if known.
    public var renews: Int64
    /// The allowance scope ("" for the key's own counter).
    public var scope: String

    /// Creates quota settings.
    public init(max: Int64, renewalRate: Int64, renews: Int64, scope: String) {
        self.max = max
        self.renewalRate = renewalRate
        self.renews = renews
        self.scope = scope
    }
}
