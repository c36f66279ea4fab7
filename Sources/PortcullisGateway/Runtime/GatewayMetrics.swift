import Foundation

/// Request and error counters, rendered in Prometheus' text format at `/metrics`.
public final class GatewayMetrics: @unchecked Sendable {
    private let lock = NSLock()
    private var requests: [String: Int] = [:]
    private var errors: [String: Int] = [:]
    private var pluginWrites = 0

    /// Creates empty counters.
    public init() {}

    /// Counts one finished request.
    public func recordRequest(api: String, status: Int) {
        let key = "api_id=\"\(Self.escape(api))\",code=\"\(status)\""
        lock.withLock { requests[key, default: 0] += 1 }
    }

    /// Counts one refused or failed request by reason.
    public func recordError(api: String, reason: GatewayError) {
        let key = "api_id=\"\(Self.escape(api))\",reason=\"\(Self.escape(reason.message))\""
        lock.withLock { errors[key, default: 0] += 1 }
    }

    /// Counts one acknowledged plugin session write.
    public func recordPluginWrite() {
        lock.withLock { pluginWrites += 1 }
    }

    /// The Prometheus exposition text.
    public func render() -> String {
        lock.withLock {
            var lines = ["# HELP portcullis_requests_total Requests answered, by API and status code.",
                         "# TYPE portcullis_requests_total counter"]
            lines += requests.keys.sorted().map { "portcullis_requests_total{\($0)} \(requests[$0] ?? 0)" }
            lines += ["# HELP portcullis_request_errors_total Requests refused or failed, by API and reason.",
                      "# TYPE portcullis_request_errors_total counter"]
            lines += errors.keys.sorted().map { "portcullis_request_errors_total{\($0)} \(errors[$0] ?? 0)" }
            lines += ["# HELP portcullis_plugin_session_writes_total TykSetKeyData writes acknowledged by the store.",
                      "# TYPE portcullis_plugin_session_writes_total counter",
                      "portcullis_plugin_session_writes_total \(pluginWrites)"]
            return lines.joined(separator: "\n") + "\n"
        }
    }

    private static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
