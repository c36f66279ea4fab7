import Foundation
import Logging
import PortcullisCore
import PortcullisGateway
import PortcullisSessions

/// The scenario's gateway nodes, in this process, sharing one store and
/// one ``VirtualClock``: expiry, store TTLs (memory store), quota and rate
/// windows and JavaScript `Date` all move only when a step advances the clock.
final class LocalTarget: ScenarioTarget {
    let adminSecret: String
    private let scenario: Scenario
    private let clock: VirtualClock
    private let nodes: [(name: String, gateway: Gateway)]
    private let stores: [any SessionStore]
    private let memoryStore: MemoryStore?
    private let redis: LocalRedisServer?
    private let book: LogBook
    private let upstream: String
    private let folder: URL

    private init(adminSecret: String, scenario: Scenario, clock: VirtualClock, nodes: [(name: String, gateway: Gateway)],
                 stores: [any SessionStore], memoryStore: MemoryStore?, redis: LocalRedisServer?, book: LogBook,
                 upstream: String, folder: URL) {
        self.adminSecret = adminSecret
        self.scenario = scenario
        self.clock = clock
        self.nodes = nodes
        self.stores = stores
        self.memoryStore = memoryStore
        self.redis = redis
        self.book = book
        self.upstream = upstream
        self.folder = folder
    }

    /// Starts every node of `scenario` with `semantics`.
    static func start(_ scenario: Scenario, semantics: SessionSemantics, upstream: String, echoLogs: Bool) async throws -> LocalTarget {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-scenario-\(UUID().uuidString)")
        let apps = folder.appendingPathComponent("apps")
        try FileManager.default.createDirectory(at: apps, withIntermediateDirectories: true)
        let directory = (scenario.file as NSString).deletingLastPathComponent
        let templates = TemplateContext(now: scenario.clockStart, upstream: upstream, scenarioDirectory: directory.isEmpty ? "." : directory)
        do {
            let config = try ScenarioGatewayFiles.config(for: scenario, appPath: apps.path, templates: templates)
            try ScenarioGatewayFiles.writeAPIs(for: scenario, into: apps, templates: templates)
            if let policies = scenario.policies {
                try Data(templates.resolve(policies).jsonString().utf8).write(to: URL(fileURLWithPath: config.policies.recordName))
            }
            let clock = VirtualClock(start: Date(timeIntervalSince1970: TimeInterval(scenario.clockStart)))
            let book = LogBook(echo: echoLogs)
            var stores: [any SessionStore] = []
            var memory: MemoryStore?
            var redis: LocalRedisServer?
            switch scenario.store {
            case .memory:
                let store = MemoryStore(clock: clock)
                memory = store
                stores = scenario.nodes.map { _ in store }
            case .redis:
                guard LocalRedisServer.isAvailable else {
                    throw StepSkipped(reason: "the scenario needs redis-server, which is not installed")
                }
                let server = try LocalRedisServer()
                redis = server
                stores = scenario.nodes.map { node in
                    RedisStore(configuration: RedisConfiguration(port: server.port, commandTimeout: 1, connectTimeout: 1),
                               logger: book.logger(node: node, level: .info))
                }
            }
            var nodes: [(name: String, gateway: Gateway)] = []
            for (name, store) in zip(scenario.nodes, stores) {
                let gateway = try await Gateway.start(config: config, store: store, clock: clock,
                                                      logger: book.logger(node: name, level: .info), semantics: semantics)
                nodes.append((name, gateway))
                if let failure = gateway.lastLoadFailures.first {
                    for (_, started) in nodes { await started.shutdown() }
                    throw ScenarioError.setupFailed(file: scenario.file, reason: failure)
                }
            }
            return LocalTarget(adminSecret: config.secret, scenario: scenario, clock: clock, nodes: nodes, stores: stores,
                               memoryStore: memory, redis: redis, book: book, upstream: upstream, folder: folder)
        } catch {
            try? FileManager.default.removeItem(at: folder)
            throw error
        }
    }

    func templates() -> TemplateContext {
        let directory = (scenario.file as NSString).deletingLastPathComponent
        return TemplateContext(now: clock.unixSeconds(), upstream: upstream, scenarioDirectory: directory.isEmpty ? "." : directory)
    }

    private func gateway(_ node: String?) -> Gateway {
        guard let node, let found = nodes.first(where: { $0.name == node }) else { return nodes[0].gateway }
        return found.gateway
    }

    func send(method: String, path: String, headers: [(String, String)], body: [UInt8], node: String?) async throws -> Exchange {
        let parts = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var fields = headers
        if !fields.contains(where: { $0.0.caseInsensitiveCompare("host") == .orderedSame }) { fields.append(("Host", "127.0.0.1")) }
        let response = await gateway(node).handle(method: method, path: String(parts[0]), query: parts.count > 1 ? String(parts[1]) : nil,
                                                  headers: HeaderList(fields), body: body, remoteAddress: "127.0.0.1")
        return Exchange(status: response.status, headers: response.headers.fields.map { ($0.name, $0.value) }, body: response.body)
    }

    func advance(seconds: Double) async throws {
        clock.advance(by: seconds)
    }

    func setStore(_ fault: StoreFault) async throws {
        switch (fault, memoryStore, redis) {
        case (.down, let memory?, _): memory.setUnavailable("the scenario took the store down")
        case (.up, let memory?, _): memory.setUnavailable(nil); memory.setLatency(0)
        case (.latency(let seconds), let memory?, _): memory.setLatency(seconds)
        case (.down, _, let server?): server.kill()
        case (.up, _, let server?): try server.start()
        default: throw StepSkipped(reason: "store latency can only be injected into the memory store")
        }
    }

    private var sessions: SessionManager { nodes[0].gateway.services.sessions }

    func writeDirect(key: String, sessionJSON: String) async throws {
        _ = try await stores[0].writeSession(key: sessions.storageKey(for: key), body: sessionJSON, ttlSeconds: 0, condition: .always)
    }

    func deleteDirect(key: String) async throws {
        _ = try await stores[0].deleteSession(key: sessions.storageKey(for: key))
    }

    func readDirect(key: String) async throws -> String? {
        try await stores[0].readSession(key: sessions.storageKey(for: key))?.body
    }

    func pluginKeyData(key: String, apiID: String?, node: String?) async throws -> String {
        let gateway = gateway(node)
        guard let api = apiID ?? gateway.loadedAPIs.first?.apiID else { throw StepSkipped(reason: "no API is loaded to run TykGetKeyData in") }
        return try await gateway.pluginKeyData(key: key, apiID: api)
    }

    func replacePolicies(_ json: String) async throws -> [String] {
        let file = nodes[0].gateway.services.config.policies.recordName
        guard !file.isEmpty else { throw StepSkipped(reason: "the scenario has no policies section to replace") }
        try Data(json.utf8).write(to: URL(fileURLWithPath: file))
        var refused: [String] = []
        for (_, gateway) in nodes { refused += await gateway.reload() }
        return refused
    }

    func logMark() throws -> Int { book.count }

    func logLines(since mark: Int) throws -> [CapturedLogLine] { book.since(mark) }

    func close() async {
        for (_, gateway) in nodes { await gateway.shutdown() }
        var closed = Set<ObjectIdentifier>()
        for store in stores where closed.insert(ObjectIdentifier(store as AnyObject)).inserted { await store.shutdown() }
        redis?.kill()
        try? FileManager.default.removeItem(at: folder)
    }
}
