import Foundation
import Logging
import PortcullisCore
import PortcullisGateway
import PortcullisSessions
import PortcullisTestSupport

/// A gateway node on a temporary app folder, a virtual clock and a real
/// upstream, driven through ``Gateway/handle`` (the same call the HTTP
/// server makes).
final class GatewayHarness: Sendable {
    static let secret = "test-secret"
    static let start: TimeInterval = 1_700_000_000

    let gateway: Gateway
    let upstream: TestUpstream
    let clock: VirtualClock
    let folder: URL
    let config: GatewayConfig

    private init(gateway: Gateway, upstream: TestUpstream, clock: VirtualClock, folder: URL, config: GatewayConfig) {
        self.config = config
        self.gateway = gateway
        self.upstream = upstream
        self.clock = clock
        self.folder = folder
    }

    /// Writes `files` (relative path → contents; `{{upstream}}` and
    /// `{{dir}}` are replaced) and starts a node on them.
    static func make(files: [String: String], store: (any SessionStore)? = nil, clock: VirtualClock? = nil,
                     upstream: TestUpstream? = nil, logs: LogBook? = nil, logger custom: Logger? = nil,
                     metrics: GatewayMetricsBackend = .prometheus(),
                     configure: (inout GatewayConfig) -> Void = { _ in }) async throws -> GatewayHarness {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-gw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("apps"), withIntermediateDirectories: true)
        let server: TestUpstream
        if let upstream { server = upstream } else { server = try await TestUpstream.start() }
        for (name, contents) in files {
            let text = contents.replacingOccurrences(of: "{{upstream}}", with: server.base)
                .replacingOccurrences(of: "{{dir}}", with: folder.path)
            let url = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        let clock = clock ?? VirtualClock(start: Date(timeIntervalSince1970: start))
        var config = GatewayConfig()
        config.appPath = folder.appendingPathComponent("apps").path
        config.secret = secret
        config.listenPort = 0
        config.jsvmTimeout = 2
        config.localSessionCache.cachedSessionTimeout = 3600
        configure(&config)
        var logger = Logger(label: "portcullis.test")
        logger.logLevel = .critical
        if let logs { logger = logs.logger(node: "a", level: .info) }
        if let custom { logger = custom }
        let gateway: Gateway
        do {
            gateway = try await Gateway.start(config: config, store: store ?? MemoryStore(clock: clock), clock: clock, logger: logger,
                                              metrics: metrics)
        } catch {
            // A node that did not start leaves nothing behind.
            if upstream == nil { await server.stop() }
            try? FileManager.default.removeItem(at: folder)
            throw error
        }
        return GatewayHarness(gateway: gateway, upstream: server, clock: clock, folder: folder, config: config)
    }

    /// Another node on the same API folder, clock and upstream, on its own store client.
    func secondNode(store: any SessionStore) async throws -> Gateway {
        var logger = Logger(label: "portcullis.test.b")
        logger.logLevel = .critical
        return try await Gateway.start(config: config, store: store, clock: clock, logger: logger)
    }

    /// Sends a request through the gateway.
    func send(_ pathAndQuery: String, method: String = "GET", headers: [(String, String)] = [], body: String = "") async -> GatewayResponse {
        await Self.send(gateway, pathAndQuery, method: method, headers: headers, body: body)
    }

    /// Sends a request through any node.
    static func send(_ gateway: Gateway, _ pathAndQuery: String, method: String = "GET", headers: [(String, String)] = [],
                     body: String = "") async -> GatewayResponse {
        let parts = pathAndQuery.split(separator: "?", maxSplits: 1).map(String.init)
        return await gateway.handle(method: method, path: parts[0], query: parts.count > 1 ? parts[1] : nil,
                                    headers: HeaderList(headers), body: Array(body.utf8))
    }

    /// Creates a key through the admin API with `session` JSON.
    @discardableResult
    func createKey(_ key: String, _ session: String) async -> GatewayResponse {
        await send("/tyk/keys/\(key)", method: "POST", headers: [("x-tyk-authorization", Self.secret)], body: session)
    }

    /// The stored session, read through the admin API.
    func session(_ key: String) async -> [String: Any]? {
        let response = await send("/tyk/keys/\(key)", method: "GET", headers: [("x-tyk-authorization", Self.secret)])
        guard response.status == 200 else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
    }

    /// Serves the gateway over HTTP on a free loopback port for the
    /// duration of `body`, which receives the port.
    func withServer(_ body: (Int) async throws -> Void) async throws {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let server = Task { try await GatewayServer(gateway: gateway).run(onListening: { continuation.yield($0) }) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        do {
            try await body(port)
        } catch {
            server.cancel()
            throw error
        }
        server.cancel()
        _ = await server.result
    }

    func close() async {
        await gateway.shutdown()
        await upstream.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    /// Unix seconds on the harness clock.
    var now: Int64 { clock.unixSeconds() }
}

extension GatewayResponse {
    var text: String { String(decoding: body, as: UTF8.self) }

    var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] }
}

/// API definitions and plugins used by the gateway tests.
enum Fixture {
    static func tokenAPI(id: String, listen: String, header: String = "Authorization", pre: [(String, String)] = [],
                         postKeyAuth: [(String, String)] = [], extra: String = "") -> String {
        func hooks(_ list: [(String, String)], session: Bool = false) -> String {
            list.map { #"{"name": "\#($0.0)", "path": "{{dir}}/\#($0.1)", "require_session": \#(session)}"# }.joined(separator: ",")
        }
        return """
        {"name": "\(id)", "api_id": "\(id)", "org_id": "org", "use_keyless": false, "active": true,
         "auth": {"auth_header_name": "\(header)"},
         "proxy": {"listen_path": "\(listen)", "target_url": "{{upstream}}/echo", "strip_listen_path": true},
         "config_data": {"api_id": "\(id)", "api_name": "\(id)", "session_expires_seconds": "60", "auth_header": "\(header)"},
         "custom_middleware": {"driver": "otto", "pre": [\(hooks(pre))], "post_key_auth": [\(hooks(postKeyAuth, session: true))]}
         \(extra)}
        """
    }

    static func keylessAPI(id: String, listen: String, pre: [(String, String)] = [], extra: String = "") -> String {
        let hooks = pre.map { #"{"name": "\#($0.0)", "path": "{{dir}}/\#($0.1)"}"# }.joined(separator: ",")
        return """
        {"name": "\(id)", "api_id": "\(id)", "org_id": "org", "use_keyless": true,
         "proxy": {"listen_path": "\(listen)", "target_url": "{{upstream}}/echo", "strip_listen_path": true},
         "config_data": {"team": "platform"},
         "custom_middleware": {"driver": "otto", "pre": [\(hooks)]} \(extra)}
        """
    }

    static func session(expires: Int64, api: String, quota: Int64 = 0, rate: Double = 0, per: Double = 0) -> String {
        """
        {"expires": \(expires), "quota_max": \(quota == 0 ? -1 : quota), "quota_remaining": \(quota), "quota_renewal_rate": 3600,
         "rate": \(rate), "per": \(per),
         "access_rights": {"\(api)": {"api_id": "\(api)", "api_name": "\(api)", "versions": ["Default"]}}}
        """
    }

    static var forumRenewal: String {
        get throws {
            try String(contentsOf: CommandLineTool.repositoryRoot.appendingPathComponent("plugins/forum-renewal.js"), encoding: .utf8)
        }
    }
}
