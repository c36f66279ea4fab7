import PortcullisJS
import Tracing

/// The span of one plugin call: named after the middleware, with the API,
/// the plugin and how the call ended (`ok`, `error`, `timeout`).
enum PluginSpan {
    static func start(_ trace: RequestTrace, request: GatewayRequest, plugin: String) -> any Span {
        let span = trace.child("plugin \(plugin)")
        span.attributes["tyk.api.id"] = request.api.definition.apiID
        span.attributes["portcullis.plugin.name"] = plugin
        return span
    }

    static func end(_ span: any Span, error: (any Error)?) {
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

/// Spans for session store calls made inside a traced request: children
/// of the stage or plugin call that made them.
enum StoreSpans {
    /// What the session layer calls per store operation; nil spans when
    /// tracing is off or the calling task is not a traced request.
    static func starter(_ tracing: (any RequestTracing)?, system: String) -> @Sendable (String) -> (any Span)? {
        guard let tracing else { return { _ in nil } }
        return { operation in
            guard let parent = InstrumentationContext.current else { return nil }
            let span = tracing.startSpan("store \(operation)", context: parent, kind: .client)
            span.attributes["db.system.name"] = system
            span.attributes["db.operation.name"] = operation
            return span
        }
    }
}
