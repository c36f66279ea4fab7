import Tracing

/// A tracer as the pipeline uses it: start spans under a context, read a
/// caller's trace from request headers, and write the current one into
/// outgoing headers. One per gateway node; nil when tracing is off, so a
/// request without tracing pays one nil check per stage.
public protocol RequestTracing: Sendable {
    /// Starts a span named `name` under `context` (a top-level context for a new trace).
    func startSpan(_ name: String, context: InstrumentationContext, kind: SpanKind) -> any Span
    /// The trace a request's `traceparent`/`tracestate` headers carry, if any.
    func extract(_ headers: HeaderList) -> InstrumentationContext
    /// The propagation headers for `context`, as the configured propagator writes them.
    func headers(for context: InstrumentationContext) -> [(String, String)]
}

/// ``RequestTracing`` over any swift-distributed-tracing `Tracer`: the OTLP
/// exporter's, or an embedder's own.
public struct TracerRequestTracing<T: Tracer>: RequestTracing {
    let tracer: T

    /// Traces through `tracer`.
    public init(_ tracer: T) {
        self.tracer = tracer
    }

    public func startSpan(_ name: String, context: InstrumentationContext, kind: SpanKind) -> any Span {
        tracer.startSpan(name, context: context, ofKind: kind)
    }

    public func extract(_ headers: HeaderList) -> InstrumentationContext {
        var context = InstrumentationContext.topLevel
        tracer.extract(headers, into: &context, using: HeaderListExtractor())
        return context
    }

    public func headers(for context: InstrumentationContext) -> [(String, String)] {
        var carrier = HeaderList()
        tracer.inject(context, into: &carrier, using: HeaderListInjector())
        return carrier.fields.map { ($0.name, $0.value) }
    }
}

/// Reads propagation headers case-insensitively.
struct HeaderListExtractor: Extractor {
    func extract(key: String, from carrier: HeaderList) -> String? {
        carrier.first(key)
    }
}

/// Writes propagation headers, replacing any of the same name.
struct HeaderListInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout HeaderList) {
        carrier.set(key, value)
    }
}
