/// Tracing settings, from the `opentelemetry` section of `tyk.conf`, in
/// Tyk's shape: spans go to an OTLP collector over gRPC or HTTP.
public struct OpenTelemetryConfig: Sendable, Equatable {
    /// How spans reach the collector (`exporter`).
    public enum Exporter: String, Sendable, Equatable {
        /// OTLP over gRPC (Tyk's default), to `host:port`.
        case grpc
        /// OTLP over HTTP with protobuf bodies, POSTed to `/v1/traces`.
        case http
    }

    /// Which traces are kept (`sampling.type`).
    public enum Sampling: Sendable, Equatable {
        /// Every trace (`AlwaysOn`, the default).
        case alwaysOn
        /// None (`AlwaysOff`).
        case alwaysOff
        /// This share of traces, chosen by trace id (`TraceIDRatioBased` with `rate`).
        case ratio(Double)
    }

    /// `enabled`: off by default; when off, requests carry no trace state.
    public var enabled = false
    /// `exporter`: `grpc` or `http`.
    public var exporter: Exporter = .grpc
    /// `endpoint`: `host:port` of the collector (a scheme, if given, is dropped;
    /// `tls.enable` chooses https).
    public var endpoint = "localhost:4317"
    /// `headers`: sent with every export (authentication tokens).
    public var headers: [String: String] = [:]
    /// `connection_timeout`: seconds an export may take.
    public var connectionTimeout: Double = 1
    /// `resource_name`: the `service.name` spans are reported under.
    public var resourceName = "portcullis"
    /// `span_processor_type`: `batch` (default) or `simple` (each span is
    /// sent at once; for tests and low traffic).
    public var simpleProcessor = false
    /// `span_batch_config.max_queue_size`, `max_export_batch_size`,
    /// `batch_timeout` (seconds); 0 keeps the exporter's defaults.
    public var maxQueueSize = 0
    public var maxExportBatchSize = 0
    public var batchTimeout: Double = 0
    /// `context_propagation`: `tracecontext` (W3C `traceparent`/`tracestate`),
    /// the one propagator the exporter has.
    public var propagation = "tracecontext"
    /// `sampling.type` and `sampling.rate`.
    public var sampling: Sampling = .alwaysOn
    /// `sampling.parent_based`: follow the caller's sampled flag when the
    /// request carries one.
    public var parentBased = false
    /// `tls.enable`: export over TLS.
    public var tlsEnabled = false
    /// `tls.ca_file`, `tls.cert_file`, `tls.key_file`: PEM files for the
    /// collector's CA and a client certificate.
    public var caFile = ""
    public var certFile = ""
    public var keyFile = ""

    /// Tracing off.
    public init() {}
}
