import Foundation
import MetricsTestKit
import PortcullisGateway
import Testing

/// Metrics go through swift-metrics: into this node's Prometheus registry
/// by default, or into the embedder's backend; process and JS engine
/// readings come with them.
@Suite("Metrics backends")
struct MetricsBackendTests {
    static let files = [
        "apps/plain.json": Fixture.tokenAPI(id: "plain", listen: "/plain/"),
        "apps/slow.json": Fixture.keylessAPI(id: "slow", listen: "/slow/", pre: [("spin", "spin.js")]),
        "spin.js": """
        var spin = new TykJS.TykMiddleware.NewMiddleware({});
        spin.NewProcessRequest(function (request, session, config) { while (true) {} });
        """,
    ]

    @Test("An embedder's own swift-metrics backend gets the same names, labels and values; /metrics answers 404")
    func embedderBackend() async throws {
        let backend = TestMetrics()
        let h = try await GatewayHarness.make(files: Self.files, metrics: .factory(backend)) { $0.jsvmTimeout = 0.3 }
        defer { Task { await h.close() } }
        #expect(await h.createKey("own-backend", Fixture.session(expires: 0, api: "plain")).status == 200)
        #expect(await h.send("/plain/x", headers: [("Authorization", "own-backend")]).status == 200)
        #expect(await h.send("/plain/x", headers: [("Authorization", "own-backend")]).status == 200)
        #expect(await h.send("/plain/x").status == 401)

        let ok = try backend.expectCounter("portcullis_requests_total", [("api_id", "plain"), ("code", "200")])
        #expect(ok.totalValue == 2)
        let refused = try backend.expectCounter("portcullis_request_errors_total", [("api_id", "plain"), ("reason", "authorization_missing")])
        #expect(refused.totalValue == 1)
        #expect(try backend.expectCounter("portcullis_auth_failures_total", [("reason", "missing")]).totalValue == 1)
        #expect(try backend.expectCounter("portcullis_keys_created_total").totalValue == 1)
        #expect(try backend.expectTimer("portcullis_store_latency_seconds", [("operation", "write")]).values.count >= 1)

        let scrape = await h.send("/metrics")
        #expect(scrape.status == 404)
        #expect(scrape.text.contains("swift-metrics backend"), "\(scrape.text)")
        // Process and engine readings are sampled without a scrape.
        #expect(try backend.expectGauge("process_resident_memory_bytes").lastValue ?? 0 > 1_000_000)
        #expect(try backend.expectGauge("portcullis_js_workers").lastValue == Double(h.gateway.services.engine.statistics.workers))
    }

    @Test("/metrics carries process metrics (RSS, CPU, fds) and the JS engine's workers, calls, queue depth and timeouts")
    func processAndEngine() async throws {
        let h = try await GatewayHarness.make(files: Self.files) { $0.jsvmTimeout = 0.3 }
        defer { Task { await h.close() } }
        #expect(await h.send("/slow/x").status == 504)
        #expect(await h.send("/slow/x").status == 504)
        // The 504 leaves at the time limit; the worker ends the stopped
        // call a moment later. Wait for that before sampling the queue.
        let engine = h.gateway.services.engine
        for _ in 0..<100 where engine.statistics.queuedOrRunning > 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(engine.statistics.queuedOrRunning == 0, "the stopped calls should have ended within 2 s")
        let text = await h.send("/metrics").text
        let m = LifecycleMetricsTests.samples(text)
        #expect((m["process_resident_memory_bytes"] ?? 0) > 1_000_000, "\(text)")
        #expect((m["process_virtual_memory_bytes"] ?? 0) >= m["process_resident_memory_bytes"] ?? 0)
        #expect((m["process_cpu_seconds_total"] ?? 0) > 0)
        #expect((m["process_open_fds"] ?? 0) > 3)
        #expect((m["process_max_fds"] ?? 0) >= m["process_open_fds"] ?? 0)
        let started = m["process_start_time_seconds"] ?? 0
        #expect(started > Date().timeIntervalSince1970 - 7 * 24 * 3600 && started <= Date().timeIntervalSince1970 + 1)
        #expect(m["portcullis_js_workers"] == Double(h.gateway.services.engine.statistics.workers))
        #expect(m["portcullis_js_queue_depth"] == 0, "nothing runs between requests")
        #expect(m["portcullis_js_workers_waiting"] == 0, "no call waits on I/O between requests")
        #expect(m["portcullis_js_timeouts_total"] == 2)
        #expect((m["portcullis_js_calls_total"] ?? 0) >= 2)
        #expect(text.contains("# HELP portcullis_js_timeouts_total JS calls stopped for running longer than jsvm_timeout."))
        #expect(text.contains("# TYPE process_cpu_seconds_total counter"))
        // A second scrape keeps counters monotonic.
        #expect(await h.send("/slow/x").status == 504)
        let again = LifecycleMetricsTests.samples(await h.send("/metrics").text)
        #expect(again["portcullis_js_timeouts_total"] == 3)
        #expect((again["process_cpu_seconds_total"] ?? 0) >= m["process_cpu_seconds_total"] ?? 0)
    }
}
