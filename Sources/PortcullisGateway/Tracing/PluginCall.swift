import CoreMetrics
import PortcullisJS
import Tracing

/// One plugin call as it is measured: its wall time goes to
/// `portcullis_plugin_duration_seconds`, and a traced request gets a span
/// for it, named after the middleware, with the API, the plugin and how the
/// call ended (`ok`, `error`, `timeout`). Every plugin call site, awaited or
/// completed in a worker callback, starts one and finishes it once.
struct PluginCall {
    let started = ContinuousClock.now
    /// The call's span when the request is traced; the plugin host's
    /// bindings run under it (``GatewayServices/pluginHost(for:span:)``).
    let span: (any Span)?
    /// The plugin's `portcullis_plugin_duration_seconds` timer
    /// (``GatewayMetrics/pluginDurationTimer(api:plugin:)``).
    private let timer: CoreMetrics.Timer

    init(_ request: GatewayRequest, plugin: String, timer: CoreMetrics.Timer) {
        self.timer = timer
        span = request.trace.map { Self.startSpan($0, api: request.api.definition.apiID, plugin: plugin) }
    }

    /// Records the duration and ends the span with the call's outcome.
    func finish(error: (any Error)?) {
        timer.recordNanoseconds((ContinuousClock.now - started).nanosecondsValue)
        if let span { Self.endSpan(span, error: error) }
    }

    private static func startSpan(_ trace: RequestTrace, api: String, plugin: String) -> any Span {
        let span = trace.child("plugin \(plugin)")
        span.attributes["tyk.api.id"] = api
        span.attributes["portcullis.plugin.name"] = plugin
        return span
    }

    private static func endSpan(_ span: any Span, error: (any Error)?) {
        switch error {
        case nil:
            span.attributes["portcullis.plugin.outcome"] = "ok"
        case let plugin as PluginError:
            if case .timedOut = plugin {
                span.attributes["portcullis.plugin.outcome"] = "timeout"
            } else {
                span.attributes["portcullis.plugin.outcome"] = "error"
            }
            span.setStatus(SpanStatus(code: .error, message: plugin.description))
        case let other?:
            span.attributes["portcullis.plugin.outcome"] = "error"
            span.setStatus(SpanStatus(code: .error, message: "\(other)"))
        }
        span.end()
    }
}
