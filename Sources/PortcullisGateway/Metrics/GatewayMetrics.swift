import CoreMetrics
import PortcullisCore
import PortcullisSessions

/// The node's request-side metrics, recorded through swift-metrics on the
/// factory of its ``GatewayMetricsBackend``: requests by API and status,
/// refusals by a fixed reason, auth failures, expired-key rejections,
/// plugin session writes and plugin call durations. The session layer
/// records its own (``SessionStatistics``) on the same factory.
///
/// Handles are made once per label set and kept, so recording a request
/// costs a dictionary lookup and an atomic add, and builds no string.
public final class GatewayMetrics: Sendable {
    /// The metric names this type records.
    public enum Name {
        public static let requests = "portcullis_requests_total"
        public static let requestErrors = "portcullis_request_errors_total"
        public static let authFailures = "portcullis_auth_failures_total"
        public static let keysExpiredRejected = "portcullis_keys_expired_rejected_total"
        public static let pluginSessionWrites = "portcullis_plugin_session_writes_total"
        public static let pluginDuration = "portcullis_plugin_duration_seconds"
    }

    private struct RequestKey: Hashable {
        var api: String
        var status: Int
    }

    private struct ErrorKey: Hashable {
        var api: String
        var reason: String
    }

    private struct PluginKey: Hashable {
        var api: String
        var plugin: String
    }

    private struct Handles {
        var requests: [RequestKey: Counter] = [:]
        var errors: [ErrorKey: Counter] = [:]
        var authFailures: [String: Counter] = [:]
        var pluginDurations: [PluginKey: CoreMetrics.Timer] = [:]
    }

    /// The backend every metric of this node goes to.
    public let backend: GatewayMetricsBackend
    private var factory: any MetricsFactory { backend.factory }
    private let handles = Locked(Handles())
    private let expiredRejected: Counter
    private let pluginWrites: Counter

    /// Metrics on `backend` (by default a Prometheus registry of this
    /// node's own, served at `/metrics`).
    public init(backend: GatewayMetricsBackend = .prometheus()) {
        self.backend = backend
        expiredRejected = Counter(label: Name.keysExpiredRejected, factory: backend.factory)
        pluginWrites = Counter(label: Name.pluginSessionWrites, factory: backend.factory)
    }

    /// Counts one finished request.
    public func recordRequest(api: String, status: Int) {
        let key = RequestKey(api: api, status: status)
        handles.withLock { Self.handle(&$0.requests, key) { Counter(label: Name.requests, dimensions: [("api_id", api), ("code", String(status))], factory: factory) } }
            .increment()
    }

    /// Counts one refused or failed request by its fixed reason, and auth
    /// refusals by auth reason. Plugin-chosen text never becomes a label.
    public func recordError(api: String, reason: GatewayError) {
        let key = ErrorKey(api: api, reason: reason.metricReason)
        handles.withLock {
            Self.handle(&$0.errors, key) { Counter(label: Name.requestErrors, dimensions: [("api_id", api), ("reason", key.reason)], factory: factory) }
        }.increment()
        if let auth = reason.authFailureReason {
            handles.withLock {
                Self.handle(&$0.authFailures, auth) { Counter(label: Name.authFailures, dimensions: [("reason", auth)], factory: factory) }
            }.increment()
        }
        if reason == .keyExpired { expiredRejected.increment() }
    }

    /// Counts one acknowledged plugin session write.
    public func recordPluginWrite() {
        pluginWrites.increment()
    }

    /// Records how long one plugin call took, by API and middleware name.
    public func recordPluginDuration(api: String, plugin: String, duration: Duration) {
        pluginDurationTimer(api: api, plugin: plugin).recordNanoseconds(duration.nanosecondsValue)
    }

    /// The timer ``recordPluginDuration(api:plugin:duration:)`` records
    /// into, for a caller that keeps it: a stage built once per API records
    /// every call without hashing the two names under the shared lock.
    func pluginDurationTimer(api: String, plugin: String) -> CoreMetrics.Timer {
        let key = PluginKey(api: api, plugin: plugin)
        return handles.withLock {
            Self.handle(&$0.pluginDurations, key) {
                CoreMetrics.Timer(label: Name.pluginDuration, dimensions: [("api_id", api), ("plugin", plugin)], factory: factory)
            }
        }
    }

    /// The Prometheus exposition text of this node's registry, with help
    /// lines; nil when the backend is not a registry this node serves.
    public func render() -> String? {
        backend.exposition()
    }

    /// The handle for `key` in one of the maps, made on first use. Called
    /// under the handles' lock with the map itself, not a key path to it:
    /// a key path is applied at run time, with metadata lookups, on every
    /// request.
    private static func handle<Key: Hashable, Handle>(_ map: inout [Key: Handle], _ key: Key, make: () -> Handle) -> Handle {
        if let known = map[key] { return known }
        let made = make()
        map[key] = made
        return made
    }
}
