import CoreMetrics
import Foundation
import Tracing

/// Settings of the session layer, named after the `tyk.conf` fields they
/// come from.
public struct SessionManagerConfiguration: Sendable {
    /// `hash_keys` / `hash_key_function`: how keys become store names.
    public var naming: KeyNaming
    /// `local_session_cache.disable_cached_session_state`.
    public var disableCachedSessionState: Bool
    /// `local_session_cache.cached_session_timeout`: seconds a cached
    /// session may be used (Tyk ignores this and uses 10).
    public var cachedSessionTimeout: Double
    /// `optimisations_use_async_session_write`: defer the gateway's own
    /// bookkeeping write-backs. Plugin writes, admin writes and revocations
    /// are always acknowledged before they return.
    public var useAsyncSessionWrite: Bool
    /// `allow_master_keys`: accept sessions with empty `access_rights`.
    public var allowMasterKeys: Bool
    /// Session lifetime (store TTL) rules.
    public var lifetime: LifetimePolicy
    /// Longest wait for every node to confirm an invalidation, in seconds.
    public var invalidationTimeout: Double
    /// This node's name in invalidation messages.
    public var nodeID: String
    /// Looks up an API definition's session settings by API ID (the
    /// gateway's API registry); nil for an unknown API.
    public var apiSettings: @Sendable (String) -> APISessionSettings?
    /// The security policies loaded now: a written key with
    /// `apply_policies` is judged (master key, lifetime, quota reset, trial
    /// period) by what its policies grant, and stored as given.
    public var policies: @Sendable () -> PolicySet
    /// Where the session counters and store latencies are recorded
    /// (swift-metrics); nowhere but ``SessionStatistics/snapshot`` by default.
    public var metricsFactory: any MetricsFactory
    /// Starts a span for one store operation (`read`, `write`, …) when the
    /// calling task is traced; returns nil otherwise. No spans by default.
    public var storeSpan: @Sendable (_ operation: String) -> (any Span)?

    /// Creates a configuration with Tyk's defaults (cache on for 10 s,
    /// synchronous bookkeeping, master keys refused, nothing deleted).
    public init(naming: KeyNaming = KeyNaming(),
                disableCachedSessionState: Bool = false,
                cachedSessionTimeout: Double = 10,
                useAsyncSessionWrite: Bool = false,
                allowMasterKeys: Bool = false,
                lifetime: LifetimePolicy = LifetimePolicy(),
                invalidationTimeout: Double = 2,
                nodeID: String = UUID().uuidString,
                apiSettings: @escaping @Sendable (String) -> APISessionSettings? = { _ in nil },
                policies: @escaping @Sendable () -> PolicySet = { PolicySet() },
                metricsFactory: any MetricsFactory = NOOPMetricsHandler.instance,
                storeSpan: @escaping @Sendable (_ operation: String) -> (any Span)? = { _ in nil }) {
        self.naming = naming
        self.disableCachedSessionState = disableCachedSessionState
        self.cachedSessionTimeout = cachedSessionTimeout
        self.useAsyncSessionWrite = useAsyncSessionWrite
        self.allowMasterKeys = allowMasterKeys
        self.lifetime = lifetime
        self.invalidationTimeout = invalidationTimeout
        self.nodeID = nodeID
        self.apiSettings = apiSettings
        self.policies = policies
        self.metricsFactory = metricsFactory
        self.storeSpan = storeSpan
    }
}
