import Foundation
import PortcullisCore
import PortcullisSessions

/// The node's counters, rendered in Prometheus' text format at `/metrics`:
/// requests and refusals, the token lifecycle (keys created, renewed,
/// rejected as expired, revoked), auth failures by reason, plugin
/// durations, store latency and the session cache hit ratio.
public final class GatewayMetrics: Sendable {
    private struct State {
        /// Keyed by API and status, rendered as labels only when scraped,
        /// so counting a request builds no string.
        var requests: [RequestKey: Int] = [:]
        var errors: [String: Int] = [:]
        var authFailures: [String: Int] = [:]
        var expiredRejected = 0
        var pluginWrites = 0
        var pluginDurations: [PluginKey: DurationHistogram] = [:]
    }

    private struct RequestKey: Hashable {
        var api: String
        var status: Int
    }

    private struct PluginKey: Hashable {
        var api: String
        var plugin: String

        var labels: String { "api_id=\"\(GatewayMetrics.escape(api))\",plugin=\"\(GatewayMetrics.escape(plugin))\"" }
    }

    private let state = Locked(State())

    /// Creates empty counters.
    public init() {}

    /// Counts one finished request.
    public func recordRequest(api: String, status: Int) {
        let key = RequestKey(api: api, status: status)
        state.withLock { $0.requests[key, default: 0] += 1 }
    }

    /// Counts one refused or failed request by reason, and auth refusals
    /// by auth reason.
    public func recordError(api: String, reason: GatewayError) {
        let key = "api_id=\"\(Self.escape(api))\",reason=\"\(reason.metricReason)\""
        state.withLock { s in
            s.errors[key, default: 0] += 1
            if let auth = reason.authFailureReason { s.authFailures["reason=\"\(auth)\"", default: 0] += 1 }
            if reason == .keyExpired { s.expiredRejected += 1 }
        }
    }

    /// Counts one acknowledged plugin session write.
    public func recordPluginWrite() {
        state.withLock { $0.pluginWrites += 1 }
    }

    /// Records how long one plugin call took, by API and middleware name.
    public func recordPluginDuration(api: String, plugin: String, seconds: Double) {
        let key = PluginKey(api: api, plugin: plugin)
        state.withLock { $0.pluginDurations[key, default: DurationHistogram()].observe(seconds) }
    }

    /// The Prometheus exposition text, with the session layer's counters.
    public func render(sessions: SessionStatistics.Snapshot = SessionStatistics.Snapshot()) -> String {
        let s = state.value
        var lines: [String] = []
        func family(_ name: String, _ type: String, _ help: String) {
            lines += ["# HELP \(name) \(help)", "# TYPE \(name) \(type)"]
        }
        func labelled(_ name: String, _ values: [String: Int]) {
            lines += values.keys.sorted().map { "\(name){\($0)} \(values[$0] ?? 0)" }
        }
        family("portcullis_requests_total", "counter", "Requests answered, by API and status code.")
        var requests: [String: Int] = [:]
        for (key, count) in s.requests { requests["api_id=\"\(Self.escape(key.api))\",code=\"\(key.status)\"", default: 0] += count }
        labelled("portcullis_requests_total", requests)
        family("portcullis_request_errors_total", "counter", "Requests refused or failed, by API and reason (a fixed name per refusal).")
        labelled("portcullis_request_errors_total", s.errors)
        family("portcullis_auth_failures_total", "counter",
               "Requests refused by authentication, by reason (missing, not_found, not_granted, expired, inactive, jwt_expired, jwt_invalid).")
        labelled("portcullis_auth_failures_total", s.authFailures)
        family("portcullis_keys_created_total", "counter", "Session writes that created a key.")
        lines.append("portcullis_keys_created_total \(sessions.keysCreated)")
        family("portcullis_keys_renewed_total", "counter", "Session writes that moved an existing key's expiry later.")
        lines.append("portcullis_keys_renewed_total \(sessions.keysRenewed)")
        family("portcullis_keys_expired_rejected_total", "counter", "Requests refused with 401 because the key had expired.")
        lines.append("portcullis_keys_expired_rejected_total \(s.expiredRejected)")
        family("portcullis_keys_revoked_total", "counter", "Keys deleted or deactivated.")
        lines.append("portcullis_keys_revoked_total \(sessions.keysRevoked)")
        family("portcullis_plugin_session_writes_total", "counter", "TykSetKeyData writes acknowledged by the store.")
        lines.append("portcullis_plugin_session_writes_total \(s.pluginWrites)")
        family("portcullis_plugin_duration_seconds", "histogram", "Time spent in each plugin call, by API and middleware name.")
        for (labels, key) in s.pluginDurations.keys.map({ ($0.labels, $0) }).sorted(by: { $0.0 < $1.0 }) {
            lines += s.pluginDurations[key]?.exposition(name: "portcullis_plugin_duration_seconds", labels: labels) ?? []
        }
        family("portcullis_store_latency_seconds", "histogram", "Latency of session store operations, by operation.")
        for operation in sessions.storeLatency.keys.sorted() {
            lines += sessions.storeLatency[operation]?.exposition(
                name: "portcullis_store_latency_seconds", labels: "operation=\"\(Self.escape(operation))\"") ?? []
        }
        family("portcullis_session_cache_hits_total", "counter", "Auth lookups answered by the node-local session cache.")
        lines.append("portcullis_session_cache_hits_total \(sessions.cacheHits)")
        family("portcullis_session_cache_misses_total", "counter", "Auth lookups that read the session store.")
        lines.append("portcullis_session_cache_misses_total \(sessions.cacheMisses)")
        let lookups = sessions.cacheHits + sessions.cacheMisses
        family("portcullis_session_cache_hit_ratio", "gauge", "Cache hits over all auth lookups since start (0 before the first).")
        lines.append("portcullis_session_cache_hit_ratio \(lookups == 0 ? 0 : Double(sessions.cacheHits) / Double(lookups))")
        return lines.joined(separator: "\n") + "\n"
    }

    fileprivate static func escape(_ value: String) -> String {
        // Label values are almost always plain; skip the copies when they are.
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }) else {
            return value
        }
        return value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
