import PortcullisCore
import Tracing

/// One request's spans: the server span, and the span of the stage the
/// request is in. Entering a stage ends the previous stage's span, so the
/// spans follow the request whichever way it moves through the pipeline
/// (inline, handed to a JS worker, or awaited in a task), and the `proxy`
/// span lasts until the upstream answers.
///
/// Shared by every copy of the request; a lock keeps the hand-overs
/// between the event loop and the JS workers safe.
public final class RequestTrace: Sendable {
    private struct State {
        var stage: (index: Int, span: any Span)?
        var finished = false
        var traceID: String?
    }

    let tracing: any RequestTracing
    /// The server span of the request.
    let server: any Span
    private let state = Locked(State())

    /// The W3C trace id (32 hex digits), for log lines; worked out from the
    /// server span's `traceparent` the first time a line asks for it.
    public var traceID: String {
        state.withLock { state in
            if let known = state.traceID { return known }
            let traceparent = tracing.headers(for: server.context).first { $0.0.lowercased() == "traceparent" }?.1 ?? ""
            let parts = traceparent.split(separator: "-")
            let id = parts.count == 4 ? String(parts[1]) : ""
            state.traceID = id
            return id
        }
    }

    /// Starts the server span for `request`, under the caller's trace when
    /// its headers carry one.
    init(_ request: GatewayRequest, tracing: any RequestTracing) {
        self.tracing = tracing
        let api = request.api.definition
        let server = tracing.startSpan(api.name.isEmpty ? api.apiID : api.name, context: tracing.extract(request.headers), kind: .server)
        server.attributes["http.request.method"] = request.method
        server.attributes["url.path"] = request.path
        server.attributes["tyk.api.id"] = api.apiID
        server.attributes["tyk.api.name"] = api.name
        server.attributes["tyk.api.orgid"] = api.orgID
        server.attributes["tyk.api.path"] = api.listenPath
        server.attributes["portcullis.request_id"] = request.id
        self.server = server
    }

    /// Enters stage `index` (named `name`): ends the span of the stage
    /// before it and starts this one's. Entering the stage the request is
    /// already in does nothing.
    func enter(_ index: Int, _ name: String) {
        state.withLock { state in
            guard !state.finished, state.stage?.index != index else { return }
            state.stage?.span.end()
            state.stage = (index, tracing.startSpan(name, context: server.context, kind: name == "proxy" ? .client : .internal))
        }
    }

    /// The context new child spans go under: the current stage's, else the server span's.
    var currentContext: InstrumentationContext {
        state.withLock { $0.stage?.span.context } ?? server.context
    }

    /// Starts a span under the current stage (a plugin call, a store call).
    func child(_ name: String, kind: SpanKind = .internal) -> any Span {
        tracing.startSpan(name, context: currentContext, kind: kind)
    }

    /// The propagation headers of the current stage, for the upstream and
    /// for plugin HTTP calls.
    var propagationHeaders: [(String, String)] {
        tracing.headers(for: currentContext)
    }

    /// Ends the stage span and the server span with the final status.
    func finish(status: Int) {
        let (first, stage) = state.withLock { state -> (Bool, (any Span)?) in
            let first = !state.finished
            state.finished = true
            defer { state.stage = nil }
            return (first, state.stage?.span)
        }
        guard first else { return }
        stage?.end()
        server.attributes["http.response.status_code"] = status
        if status >= 500 { server.setStatus(SpanStatus(code: .error)) }
        server.end()
    }
}
