import AsyncHTTPClient
import Foundation
import NIOCore
import PortcullisGateway
import PortcullisScenarios
import PortcullisSessions
import PortcullisTestSupport
import Testing

/// OpenTelemetry: with `opentelemetry.enabled`, each request is one server
/// span with a child per stage, per plugin call and per store call, sent
/// to a collector over OTLP/HTTP; the upstream and plugin HTTP calls join
/// the trace through `traceparent`; log lines carry the trace id.
@Suite("Tracing", .serialized)
struct TracingTests {
    static let callerTrace = "0af7651916cd43dd8448eb211c80319c"
    static let callerSpan = "b7ad6b7169203331"

    static let files = [
        "apps/traced.json": Fixture.tokenAPI(id: "traced", listen: "/traced/", pre: [("tracedPre", "traced.js")]),
        "traced.js": """
        var tracedPre = new TykJS.TykMiddleware.NewMiddleware({});
        tracedPre.NewProcessRequest(function (request, session, config) {
            var reply = TykMakeHttpRequest(JSON.stringify({Method: "GET", Domain: "{{upstream}}", Resource: "/echo/from-plugin"}));
            var seen = JSON.parse(JSON.parse(reply).Body).headers.traceparent || "none";
            request.SetHeaders["X-Plugin-Saw"] = seen;
            TykSetKeyData("written-by-plugin", JSON.stringify({expires: 0, access_rights: {traced: {api_id: "traced", versions: ["Default"]}}}));
            log("pre hook ran");
            return tracedPre.ReturnData(request, {});
        });
        """,
    ]

    static func enable(_ config: inout GatewayConfig, port: Int) {
        config.openTelemetry.enabled = true
        config.openTelemetry.exporter = .http
        config.openTelemetry.endpoint = "127.0.0.1:\(port)"
        config.openTelemetry.resourceName = "portcullis-test"
        config.openTelemetry.simpleProcessor = true
    }

    @Test("A request is a server span with stage, plugin and store children; upstream and plugin HTTP calls get its traceparent")
    func spanTree() async throws {
        let redis = try RedisServer()
        let receiver = try await OTLPReceiver.start()
        let logs = LogBook()
        let h = try await GatewayHarness.make(files: Self.files, store: RedisStore(configuration: RedisConfiguration(port: redis.port)),
                                              logs: logs) { Self.enable(&$0, port: receiver.port) }
        #expect(await h.createKey("traced-key", Fixture.session(expires: 0, api: "traced")).status == 200)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var echo: [String: Any] = [:]
        try await h.withServer { port in
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/traced/echo/x")
            request.headers.add(name: "Authorization", value: "traced-key")
            request.headers.add(name: "traceparent", value: "00-\(Self.callerTrace)-\(Self.callerSpan)-01")
            request.headers.add(name: "tracestate", value: "vendor=opaque")
            let response = try await client.execute(request, timeout: .seconds(10))
            #expect(response.status.code == 200)
            let body = try await response.body.collect(upTo: 1 << 20)
            echo = (try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]) ?? [:]
        }
        try await client.shutdown()
        let upstreamHeaders = echo["headers"] as? [String: String] ?? [:]

        let spans = await receiver.waitFor { spans in spans.contains { $0.kind == 2 } && spans.contains { $0.name == "proxy" } }
        await h.close()
        await receiver.stop()
        redis.kill()

        #expect(Set(spans.map(\.traceID)) == [Self.callerTrace], "every span joins the caller's trace: \(spans)")
        #expect(Set(spans.map(\.serviceName)) == ["portcullis-test"])
        #expect(receiver.contentTypes.allSatisfy { $0 == "application/x-protobuf" }, "\(receiver.contentTypes)")
        guard let server = spans.first(where: { $0.kind == 2 }) else {
            Issue.record("no server span: \(spans)")
            return
        }
        #expect(server.name == "traced")
        #expect(server.parentSpanID == Self.callerSpan)
        #expect(server.attributes["tyk.api.id"] == "traced")
        #expect(server.attributes["http.request.method"] == "GET")
        #expect(server.attributes["url.path"] == "/traced/echo/x")
        #expect(server.attributes["http.response.status_code"] == "200")
        #expect(server.attributes["portcullis.request_id"]?.isEmpty == false)

        let stages = spans.filter { $0.parentSpanID == server.spanID }
        #expect(stages.map(\.name) .sorted() == ["access_rights", "auth", "key_expiry", "post", "post_key_auth", "pre", "proxy",
                                                 "rate_limit_quota", "virtual_endpoint"].sorted(), "\(spans)")
        let pre = stages.first { $0.name == "pre" }
        let plugin = spans.first { $0.name == "plugin tracedPre" }
        #expect(plugin?.parentSpanID == pre?.spanID, "\(spans)")
        #expect(plugin?.attributes["portcullis.plugin.name"] == "tracedPre")
        #expect(plugin?.attributes["portcullis.plugin.outcome"] == "ok")
        #expect(plugin?.attributes["tyk.api.id"] == "traced")
        let write = spans.first { $0.name == "store write" }
        #expect(write?.parentSpanID == plugin?.spanID, "TykSetKeyData's store call is a child of the plugin call: \(spans)")
        #expect(write?.kind == 3)
        #expect(write?.attributes["db.system.name"] == "redis")

        // The upstream is called under the proxy span, the plugin's HTTP call under the plugin span.
        let proxy = stages.first { $0.name == "proxy" }
        #expect(upstreamHeaders["traceparent"] == "00-\(Self.callerTrace)-\(proxy?.spanID ?? "?")-01", "\(upstreamHeaders)")
        #expect(upstreamHeaders["x-plugin-saw"] == "00-\(Self.callerTrace)-\(plugin?.spanID ?? "?")-01", "\(upstreamHeaders)")
        #expect(upstreamHeaders["tracestate"] == "vendor=opaque", "the caller's tracestate travels on: \(upstreamHeaders)")

        // Plugin log lines carry the request and trace ids.
        let line = logs.all.first { $0.message.contains("pre hook ran") }
        #expect(line?.metadata["trace_id"] == Self.callerTrace, "\(String(describing: line))")
        #expect(line?.metadata["request_id"] == server.attributes["portcullis.request_id"])
    }

    @Test("A request without a caller trace starts one; with tracing off nothing is added to the upstream request")
    func newTraceAndOff() async throws {
        let receiver = try await OTLPReceiver.start()
        let on = try await GatewayHarness.make(files: Self.files) { Self.enable(&$0, port: receiver.port) }
        #expect(await on.createKey("traced-key", Fixture.session(expires: 0, api: "traced")).status == 200)
        let traced = await on.send("/traced/echo/x", headers: [("Authorization", "traced-key")])
        #expect(traced.status == 200)
        let upstream = (traced.json?["headers"] as? [String: String]) ?? [:]
        let spans = await receiver.waitFor { $0.contains { $0.kind == 2 } }
        await on.close()
        let server = spans.first { $0.kind == 2 }
        #expect(server?.parentSpanID == "", "a new trace: \(spans)")
        #expect(server.map { upstream["traceparent"]?.contains($0.traceID) == true } == true, "\(upstream)")

        let off = try await GatewayHarness.make(files: Self.files)
        #expect(await off.createKey("traced-key", Fixture.session(expires: 0, api: "traced")).status == 200)
        let plain = await off.send("/traced/echo/x", headers: [("Authorization", "traced-key")])
        #expect(plain.status == 200)
        let plainHeaders = (plain.json?["headers"] as? [String: String]) ?? [:]
        #expect(plainHeaders["traceparent"] == nil)
        #expect(plainHeaders["x-plugin-saw"] == "none")
        await off.close()
        await receiver.stop()
    }

    @Test("sampling AlwaysOff exports nothing and never marks the upstream call as sampled")
    func samplingOff() async throws {
        let receiver = try await OTLPReceiver.start()
        let h = try await GatewayHarness.make(files: Self.files) { config in
            Self.enable(&config, port: receiver.port)
            config.openTelemetry.sampling = .alwaysOff
        }
        #expect(await h.createKey("traced-key", Fixture.session(expires: 0, api: "traced")).status == 200)
        let response = await h.send("/traced/echo/x", headers: [("Authorization", "traced-key")])
        #expect(response.status == 200)
        // The exporter keeps no context for a trace it does not sample, so nothing is
        // propagated; were it to, the flags would have to say "not sampled".
        let traceparent = (response.json?["headers"] as? [String: String])?["traceparent"]
        #expect(traceparent == nil || traceparent?.hasSuffix("-00") == true, "\(traceparent ?? "")")
        await h.close()
        try await Task.sleep(for: .milliseconds(300))
        #expect(receiver.spans.isEmpty, "\(receiver.spans)")
        await receiver.stop()
    }

    @Test("The opentelemetry section is read in Tyk's shape, and what cannot work is refused with the field named")
    func configuration() throws {
        let (config, ignored) = try GatewayConfig.parse("""
        {"opentelemetry": {"enabled": true, "exporter": "http", "endpoint": "collector.local:4318", "resource_name": "edge",
          "connection_timeout": 3, "headers": {"x-token": "t"}, "span_processor_type": "batch",
          "span_batch_config": {"max_queue_size": 100, "max_export_batch_size": 10, "batch_timeout": 2},
          "context_propagation": "tracecontext", "sampling": {"type": "TraceIDRatioBased", "rate": 0.25, "parent_based": true}}}
        """, file: "tyk.conf")
        #expect(ignored.isEmpty, "\(ignored)")
        let telemetry = config.openTelemetry
        #expect(telemetry.enabled && telemetry.exporter == .http && telemetry.endpoint == "collector.local:4318")
        #expect(telemetry.resourceName == "edge" && telemetry.connectionTimeout == 3 && telemetry.headers == ["x-token": "t"])
        #expect(telemetry.maxQueueSize == 100 && telemetry.maxExportBatchSize == 10 && telemetry.batchTimeout == 2)
        #expect(telemetry.propagation == "tracecontext" && telemetry.sampling == .ratio(0.25) && telemetry.parentBased)
        // Off unless enabled, as in Tyk: the rest is not read.
        #expect(try GatewayConfig.parse(#"{"opentelemetry": {"exporter": "carrier-pigeon"}}"#, file: "tyk.conf").0.openTelemetry.enabled == false)
        let refusals = [
            (#"{"opentelemetry": {"enabled": true, "exporter": "zipkin"}}"#, "opentelemetry.exporter"),
            (#"{"opentelemetry": {"enabled": true, "endpoint": "no-port"}}"#, "opentelemetry.endpoint"),
            (#"{"opentelemetry": {"enabled": true, "sampling": {"type": "Sometimes"}}}"#, "opentelemetry.sampling.type"),
            (#"{"opentelemetry": {"enabled": true, "sampling": {"type": "TraceIDRatioBased", "rate": 2}}}"#, "opentelemetry.sampling.rate"),
            (#"{"opentelemetry": {"enabled": true, "context_propagation": "b3"}}"#, "opentelemetry.context_propagation"),
            (#"{"opentelemetry": {"enabled": true, "tls": {"enable": true, "cert_file": "c.pem"}}}"#, "opentelemetry.tls.key_file"),
        ]
        for (text, field) in refusals {
            #expect { try GatewayConfig.parse(text, file: "tyk.conf") } throws: { error in
                "\(error)".contains("tyk.conf: field \(field)")
            }
        }
    }

    @Test("A missing TLS file for the exporter refuses the start, naming the file")
    func missingExporterFile() async throws {
        await #expect { _ = try await GatewayHarness.make(files: Self.files) { config in
            config.openTelemetry.enabled = true
            config.openTelemetry.tlsEnabled = true
            config.openTelemetry.caFile = "/nonexistent/collector-ca.pem"
        } } throws: { error in "\(error)".contains("/nonexistent/collector-ca.pem") && "\(error)".contains("opentelemetry.tls.ca_file") }
    }
}
