import CoreMetrics
import Prometheus

/// Where a gateway node records its metrics, and what its `/metrics`
/// endpoint serves.
///
/// `portcullis serve` records into a Prometheus registry and serves it. An
/// embedder who has a metrics backend of their own passes its factory
/// (``factory(_:)``, for example `MetricsSystem.factory` after
/// `MetricsSystem.bootstrap`) and gets every metric there under the same
/// names and labels; `/metrics` then answers 404, since the backend, not the
/// gateway, decides how its metrics are read.
public struct GatewayMetricsBackend: Sendable {
    /// The swift-metrics factory every metric of the node is made on.
    public let factory: any MetricsFactory
    /// The registry `/metrics` renders; nil when the node does not serve one.
    public let registry: PrometheusCollectorRegistry?

    /// A Prometheus registry (a new one for this node unless given), with
    /// histogram buckets from 100 µs to 10 s, served at `/metrics`.
    public static func prometheus(_ registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) -> GatewayMetricsBackend {
        GatewayMetricsBackend(factory: prometheusFactory(registry), registry: registry)
    }

    /// Any swift-metrics backend; `/metrics` is not served.
    public static func factory(_ factory: any MetricsFactory) -> GatewayMetricsBackend {
        GatewayMetricsBackend(factory: factory, registry: nil)
    }

    /// The factory `portcullis serve` bootstraps `MetricsSystem` with:
    /// records into `registry`, timers as histograms with Portcullis'
    /// buckets (store calls sit at the low end, plugin calls that make HTTP
    /// requests at the high end).
    public static func prometheusFactory(_ registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = durationBuckets
        return factory
    }

    /// Histogram bucket bounds for every timer.
    public static let durationBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    init(factory: any MetricsFactory, registry: PrometheusCollectorRegistry?) {
        self.factory = factory
        self.registry = registry
    }

    /// The registry's exposition text with a `# HELP` line before each
    /// family Portcullis records; nil without a registry.
    func exposition() -> String? {
        guard let registry else { return nil }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return MetricHelp.annotate(String(decoding: buffer, as: UTF8.self))
    }
}
