import Foundation
import PortcullisCore
import PortcullisGateway
import PortcullisTestSupport
import Testing
@testable import PortcullisJS

/// The plugins shipped in plugins/ load and behave as their comments say.
@Suite("Shipped plugins", .serialized)
struct PluginFilesTests {
    static let now: Int64 = 1_700_000_000

    private func engine(_ file: String) async throws -> (JSEngine, VirtualClock) {
        let clock = VirtualClock(start: Date(timeIntervalSince1970: TimeInterval(Self.now)))
        let engine = JSEngine(configuration: JSEngineConfiguration(workerCount: 1, clock: clock))
        try await engine.loadRealm("api", scripts: [try Fixtures.pluginFile(file)])
        return (engine, clock)
    }

    private func forumSpec() -> PluginSpec {
        PluginSpec(apiID: "forum-api", orgID: "org", configData: .object([
            "api_id": .string("forum-api"), "api_name": .string("forum"), "session_expires_seconds": .string("60"),
        ]))
    }

    @Test("forum-renewal renews an expired session to now+60 with integer expires and the API's rights")
    func forumRenewalExpired() async throws {
        let (engine, _) = try await engine("forum-renewal.js")
        defer { engine.shutdown() }
        let host = LocalPluginHost(sessions: ["key-1": .object(["expires": .int(Self.now - 86_401)])])
        let request = MiniRequest(headers: ["X-Session-Key": ["key-1"]])
        let outcome = try await engine.runMiddleware(realm: "api", handler: "forumRenewal", request: request,
                                                     spec: forumSpec(), host: host)
        #expect(!outcome.request.returnOverrides.isSet)
        let stored = try #require(host.session(for: "key-1")?.objectValue)
        #expect(stored["expires"] == .int(Self.now + 60))
        #expect(stored["quota_renewal_rate"] == .int(60))
        #expect(stored["access_rights"]?.objectValue?["forum-api"]?.objectValue?["api_id"] == .string("forum-api"))
        #expect(outcome.logs.contains { $0.message == "curr_epoch=\(Self.now) new session expires_at:\(Self.now + 60)" })
    }

    @Test("forum-renewal renews exactly at expiry and leaves a live session alone")
    func forumRenewalBoundary() async throws {
        let (engine, clock) = try await engine("forum-renewal.js")
        defer { engine.shutdown() }
        let host = LocalPluginHost(sessions: ["k": .object(["expires": .int(Self.now + 1)])])
        let request = MiniRequest(headers: ["X-Session-Key": ["k"]])
        _ = try await engine.runMiddleware(realm: "api", handler: "forumRenewal", request: request, spec: forumSpec(), host: host)
        #expect(host.writes.isEmpty)
        clock.advance(by: 1)
        _ = try await engine.runMiddleware(realm: "api", handler: "forumRenewal", request: request, spec: forumSpec(), host: host)
        #expect(host.writes.count == 1)
        #expect(host.session(for: "k")?.objectValue?["expires"] == .int(Self.now + 61))
    }

    @Test("forum-renewal answers 401 when the key header is missing")
    func forumRenewalNoHeader() async throws {
        let (engine, _) = try await engine("forum-renewal.js")
        defer { engine.shutdown() }
        let outcome = try await engine.runMiddleware(realm: "api", handler: "forumRenewal", request: MiniRequest(),
                                                     spec: forumSpec(), host: LocalPluginHost())
        #expect(outcome.request.returnOverrides.responseCode == 401)
        #expect(outcome.request.returnOverrides.responseError == "Authorization field missing")
    }

    @Test("myAuth re-authenticates a missing key against my_host and writes a session; failure is a 401")
    func myAuth() async throws {
        let upstream = try await TestUpstream.start()
        let transport = HTTPClientTransport()
        let (engine, _) = try await engine("myAuth.js")
        func spec(_ host: String) -> PluginSpec {
            PluginSpec(apiID: "my-api", configData: .object([
                "my_host": .string(host), "requesting_system": .string("sys"), "requested_resource_tag": .string("tag"),
                "session_expires_seconds": .string("60"), "api_id": .string("my-api"), "api_name": .string("mine"),
                "debug_mode": .string("true"),
            ]))
        }
        let request = MiniRequest(headers: ["Authorization": ["abc123"]])
        let host = LocalPluginHost(transport: transport)
        let renewed = try await engine.runMiddleware(realm: "api", handler: "myAuth", request: request,
                                                     spec: spec(upstream.base), host: host)
        #expect(renewed.request.setHeaders == ["x-internal-authorization": "abc123"])
        #expect(!renewed.request.returnOverrides.isSet)
        #expect(host.session(for: "abc123")?.objectValue?["expires"] == .int(Self.now + 60))

        let again = try await engine.runMiddleware(realm: "api", handler: "myAuth", request: request,
                                                   spec: spec(upstream.base), host: host)
        #expect(again.logs.contains { $0.message.hasPrefix("Pre-existing session exists") })
        #expect(host.writes.count == 1)

        let failing = try await engine.runMiddleware(realm: "api", handler: "myAuth", request: request,
                                                     spec: spec("http://127.0.0.1:1"), host: LocalPluginHost(transport: transport))
        #expect(failing.request.returnOverrides.responseCode == 401)
        #expect(failing.request.returnOverrides.responseError == "MY Auth Failed: 0")

        let anonymous = try await engine.runMiddleware(realm: "api", handler: "myAuth", request: MiniRequest(),
                                                       spec: spec(upstream.base), host: host)
        #expect(anonymous.request.returnOverrides.responseError == "Authentication required")
        engine.shutdown()
        try await transport.shutdown()
        await upstream.stop()
    }

    @Test("header-injection sets headers and params and deletes the debug header")
    func headerInjection() async throws {
        let (engine, _) = try await engine("header-injection.js")
        defer { engine.shutdown() }
        let outcome = try await engine.runMiddleware(
            realm: "api", handler: "headerInjection", request: MiniRequest(method: "PUT"),
            spec: PluginSpec(apiID: "a", configData: .object(["team": .string("platform")])), host: nil)
        #expect(outcome.request.setHeaders == ["X-Portcullis-Pre": "injected", "X-Request-Method": "PUT", "X-Team": "platform"])
        #expect(outcome.request.deleteHeaders == ["X-Internal-Debug"])
        #expect(outcome.request.addParams == ["via": "portcullis"])
    }

    @Test("virtual-endpoint answers from the gateway with JSON")
    func virtualEndpoint() async throws {
        let (engine, _) = try await engine("virtual-endpoint.js")
        defer { engine.shutdown() }
        let outcome = try await engine.runVirtualEndpoint(
            realm: "api", handler: "helloEndpoint",
            request: VirtualEndpointRequest(url: "/hello?name=Ada", params: ["name": ["Ada"]]),
            spec: PluginSpec(apiID: "a"), host: nil)
        #expect(outcome.code == 200)
        #expect(outcome.headers["Content-Type"] == "application/json")
        let body = try JSONValue(parsing: outcome.body)
        #expect(body.objectValue?["message"] == .string("Hello, Ada!"))
        #expect(body.objectValue?["at"] == .int(Self.now))
    }
}

@Suite("plugin run")
struct PluginRunnerTests {
    @Test("PluginRunner finds the single middleware, runs it and reports writes and logs")
    func runReport() async throws {
        let engine = JSEngine(configuration: JSEngineConfiguration(workerCount: 1,
                                                                   clock: VirtualClock(start: Date(timeIntervalSince1970: 1_700_000_000))))
        defer { engine.shutdown() }
        let runner = PluginRunner(engine: engine, transport: nil)
        let request = try RequestFixture.parse(#"{"URL": "/forum/x?a=1", "Headers": {"X-Session-Key": "k9"}}"#, file: "req.json")
        #expect(request.params == ["a": ["1"]])
        let report = try await runner.run(.init(
            script: try Fixtures.pluginFile("forum-renewal.js"), request: request,
            session: .object(["expires": .int(1)]), key: "k9", spec: PluginSpec(apiID: "forum-api")))
        let object = try #require(report.objectValue)
        #expect(object["handler"] == .string("forumRenewal"))
        let writes = try #require(object["sessionWrites"]?.jsonString())
        #expect(writes.contains(#""expires":1700000060"#))
        #expect(writes.contains(#""key":"k9""#))
        #expect(object["logs"]?.jsonString().contains("new session expires_at:1700000060") == true)
    }

    @Test("A file with several middleware objects asks for --handler; a file with none says so")
    func handlerInference() throws {
        let two = PluginScript(path: "two.js", source: """
            var a = new TykJS.TykMiddleware.NewMiddleware({});
            var b = new TykJS.TykMiddleware.NewMiddleware({});
            """)
        #expect(throws: PluginRunner.RunError.cannotChooseHandler(file: "two.js", candidates: ["a", "b"])) {
            try PluginRunner.inferHandler(in: two)
        }
        #expect(throws: PluginRunner.RunError.cannotChooseHandler(file: "none.js", candidates: [])) {
            try PluginRunner.inferHandler(in: PluginScript(path: "none.js", source: "function f() {}"))
        }
    }

    @Test("A malformed request fixture is refused with the file and field named")
    func badFixture() {
        #expect(throws: RequestFixture.InvalidFixture(file: "r.json", reason: "Headers.X must be a string or a list of strings")) {
            _ = try RequestFixture.parse(#"{"Headers": {"X": 1}}"#, file: "r.json")
        }
        #expect(throws: RequestFixture.InvalidFixture.self) {
            _ = try RequestFixture.parse("[1]", file: "r.json")
        }
    }
}
