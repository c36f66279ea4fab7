import Tracing

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
