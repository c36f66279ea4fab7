import Foundation
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// A node's tracing: the OTLP exporter built from `opentelemetry`, the
/// background service that batches and sends spans, and its shutdown,
/// which sends what is still queued.
public final class GatewayTracing: Sendable {
    /// Starts spans; handed to every request.
    let tracing: any RequestTracing
    private let group: ServiceGroup
    private let runner: Task<Void, Never>

    /// The exporter `settings` describe, running; nil when tracing is off.
    /// Refuses settings the exporter cannot use (a missing TLS file).
    static func start(_ settings: OpenTelemetryConfig, logger: Logger) throws -> GatewayTracing? {
        guard settings.enabled else { return nil }
        for (file, field) in [(settings.caFile, "ca_file"), (settings.certFile, "cert_file"), (settings.keyFile, "key_file")]
        where !file.isEmpty && !FileManager.default.isReadableFile(atPath: file) {
            throw ConfigError.unreadable(file: file, reason: "no such file or not readable (opentelemetry.tls.\(field))")
        }
        let backend = try OTel.makeTracingBackend(configuration: otelConfiguration(settings, logger: logger))
        return GatewayTracing(tracer: backend.factory, service: backend.service, logger: logger)
    }

    private init(tracer: some Tracer, service: some Service, logger: Logger) {
        tracing = TracerRequestTracing(tracer)
        group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [.init(service: service)], logger: logger))
        let group = group
        runner = Task {
            do {
                try await group.run()
            } catch {
                logger.error("the span exporter stopped: \(error)")
            }
        }
    }

    /// The spans of `request`, its server span started.
    func trace(_ request: GatewayRequest) -> RequestTrace {
        RequestTrace(request, tracing: tracing)
    }

    /// Sends the spans still queued, then stops the exporter.
    func shutdown() async {
        await group.triggerGracefulShutdown()
        await runner.value
    }

    /// swift-otel's configuration for `settings`: traces only, the OTLP
    /// exporter at the collector's address, the sampler and propagator Tyk's
    /// names select, diagnostics on the gateway's logger.
    static func otelConfiguration(_ settings: OpenTelemetryConfig, logger: Logger) -> OTel.Configuration {
        var configuration = OTel.Configuration.default
        configuration.serviceName = settings.resourceName
        configuration.diagnosticLogger = .custom(logger)
        configuration.diagnosticLogLevel = .warning
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.enabled = true
        configuration.propagators = [.traceContext]
        let sampler: OTel.Configuration.TracesConfiguration.SamplerConfiguration
        switch (settings.sampling, settings.parentBased) {
        case (.alwaysOn, false): sampler = .alwaysOn
        case (.alwaysOn, true): sampler = .parentBasedAlwaysOn
        case (.alwaysOff, false): sampler = .alwaysOff
        case (.alwaysOff, true): sampler = .parentBasedAlwaysOff
        case (.ratio(let rate), false): sampler = .traceIDRatio(ratio: rate) ?? .alwaysOn
        case (.ratio(let rate), true): sampler = .parentBasedTraceIDRatio(ratio: rate) ?? .parentBasedAlwaysOn
        }
        configuration.traces.sampler = sampler
        if settings.simpleProcessor {
            configuration.traces.batchSpanProcessor.scheduleDelay = .milliseconds(10)
            configuration.traces.batchSpanProcessor.maxExportBatchSize = 1
        } else {
            if settings.batchTimeout > 0 { configuration.traces.batchSpanProcessor.scheduleDelay = .milliseconds(Int64(settings.batchTimeout * 1000)) }
            if settings.maxQueueSize > 0 { configuration.traces.batchSpanProcessor.maxQueueSize = settings.maxQueueSize }
            if settings.maxExportBatchSize > 0 { configuration.traces.batchSpanProcessor.maxExportBatchSize = settings.maxExportBatchSize }
        }
        var exporter = configuration.traces.otlpExporter
        let scheme = settings.tlsEnabled ? "https" : "http"
        switch settings.exporter {
        case .grpc:
            exporter.protocol = .grpc
            exporter.endpoint = "\(scheme)://\(settings.endpoint)"
        case .http:
            exporter.protocol = .httpProtobuf
            exporter.endpoint = "\(scheme)://\(settings.endpoint)/v1/traces"
        }
        exporter.headers = settings.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        exporter.timeout = .milliseconds(Int64(settings.connectionTimeout * 1000))
        if !settings.caFile.isEmpty { exporter.certificateFilePath = settings.caFile }
        if !settings.certFile.isEmpty { exporter.clientCertificateFilePath = settings.certFile }
        if !settings.keyFile.isEmpty { exporter.clientKeyFilePath = settings.keyFile }
        configuration.traces.otlpExporter = exporter
        return configuration
    }
}
