import Foundation
import Logging
import NIOPosix
import PortcullisCore
import PortcullisJS
import PortcullisSessions

/// One gateway node: the loaded APIs, their pipelines and the admin API,
/// independent of any HTTP server so it can be embedded or tested directly.
public final class Gateway: Sendable {
    /// Everything the stages use.
    public let services: GatewayServices
    let table: Locked<RouteTable>
    private let reloadLock = AsyncLock()

    /// Builds a node on a store: starts the session layer, loads every API
    /// in `config.appPath`. Refused APIs are logged and listed by ``lastLoadFailures``.
    /// `semantics` is ``SessionSemantics/consistent`` except in scenario
    /// runs that demonstrate Tyk's race. Metrics go to `metrics`: by
    /// default a Prometheus registry of this node's own, served at `/metrics`.
    public static func start(config: GatewayConfig, store: any SessionStore, clock: any GatewayClock = SystemClock(),
                             logger: Logger = Logger(label: "portcullis"),
                             semantics: SessionSemantics = .consistent,
                             metrics: GatewayMetricsBackend = .prometheus()) async throws -> Gateway {
        let workers = config.jsvmWorkers > 0 ? config.jsvmWorkers : 2 * ProcessInfo.processInfo.activeProcessorCount
        let engine = JSEngine(configuration: JSEngineConfiguration(workerCount: workers, maxWorkerCount: config.jsvmMaxWorkers > 0 ? config.jsvmMaxWorkers : nil,
                                                                   addedWorkerIdleSeconds: config.jsvmWorkerIdleSeconds,
                                                                   timeoutSeconds: config.jsvmTimeout, clock: clock,
                                                                   logger: logger.component("jsvm"),
                                                                   nestedCalls: config.jsvmNestedCalls))
        let tracing = try GatewayTracing.start(config.openTelemetry, logger: logger.component("tracing"))
        let apis = Locked<[String: APISessionSettings]>([:])
        let policies = PolicyRegistry()
        let sessions = SessionManager(
            store: store, clock: clock,
            configuration: SessionManagerConfiguration(
                naming: KeyNaming(hashKeys: config.hashKeys,
                                  hashFunction: KeyHashFunction(configName: config.hashKeyFunction) ?? .murmur32),
                disableCachedSessionState: config.localSessionCache.disableCachedSessionState,
                cachedSessionTimeout: config.localSessionCache.cachedSessionTimeout,
                useAsyncSessionWrite: config.asyncSessionWrite,
                allowMasterKeys: config.allowMasterKeys,
                lifetime: LifetimePolicy(globalSessionLifetime: config.globalSessionLifetime,
                                         forceGlobalSessionLifetime: config.forceGlobalSessionLifetime,
                                         respectKeyExpiration: config.sessionLifetimeRespectsKeyExpiration),
                apiSettings: { apis.value[$0] },
                policies: { policies.current },
                metricsFactory: metrics.factory,
                storeSpan: StoreSpans.starter(tracing?.tracing, system: store is RedisStore ? "redis" : "memory")),
            logger: logger.component("sessions"))
        try await sessions.start()
        let services = GatewayServices(
            config: config, engine: engine, sessions: sessions, store: store,
            pluginStorage: PluginKeyValueStore(store: store),
            upstream: UpstreamClient(insecureSkipVerify: config.proxySSLInsecureSkipVerify,
                                     responseTimeout: .milliseconds(Int64(config.proxyDefaultTimeout * 1000))),
            transport: HTTPClientTransport(tls: .init(insecureSkipVerify: config.proxySSLInsecureSkipVerify)),
            metrics: GatewayMetrics(backend: metrics), clock: clock, logger: logger, semantics: semantics, policies: policies,
            tracing: tracing)
        let gateway = Gateway(services: services, apiSettings: apis)
        _ = await gateway.reload()
        if metrics.registry == nil {
            // No scrape to sample on: the embedder's backend reads what was last recorded.
            let runtime = services.runtimeMetrics
            gateway.sampler.value = Task {
                while !Task.isCancelled {
                    runtime.sample()
                    try? await Task.sleep(for: .seconds(10))
                }
            }
        }
        return gateway
    }

    private let apiSettings: Locked<[String: APISessionSettings]>
    private let failures = Locked<[String]>([])
    /// Samples process and engine metrics when nothing scrapes them.
    private let sampler = Locked<Task<Void, Never>?>(nil)

    private init(services: GatewayServices, apiSettings: Locked<[String: APISessionSettings]>) {
        self.services = services
        self.apiSettings = apiSettings
        let table = Locked(RouteTable(routes: [], generation: 0))
        self.table = table
        services.loops.install(LoopRouter.Resolver { host, current in
            table.withLock { routes -> RouteTable.Route? in
                let found = host == "self"
                    ? routes.routes.first { $0.api.definition.apiID == current }
                    : routes.routes.first { $0.api.definition.apiID == host }
                        ?? routes.routes.first { LoopRouter.loopingName($0.api.definition.name).caseInsensitiveCompare(host) == .orderedSame }
                found?.lease.enter()
                return found
            }
        })
    }

    /// What the last load or reload refused, one message per file or API.
    public var lastLoadFailures: [String] { failures.value }

    /// The APIs being served.
    public var loadedAPIs: [APIDefinition] { table.value.routes.map(\.api.definition) }

    /// Re-reads the policies, `app_path` and the plugin files and swaps them in at once;
    /// requests in flight finish on the version they started with. APIs
    /// that fail to load keep serving their previous version.
    @discardableResult
    public func reload() async -> [String] {
        await reloadLock.withLock {
            let policyFailures = services.policies.install(PolicyLoader(source: services.config.policies, logger: services.logger).load())
            let previous = table.value
            let generation = previous.generation + 1
            let definitions = APIDefinitionLoader(middlewarePath: services.config.middlewarePath, logger: services.logger).load(folder: services.config.appPath)
            let (loaded, realmFailures) = await APIRealmLoader(services: services).load(definitions.apis, generation: generation,
                                                                                          serving: Set(previous.routes.map(\.api.definition.apiID)))
            var routes = loaded.map {
                RouteTable.Route(api: $0, pipeline: Pipeline(api: $0, services: services),
                                 lease: RealmLease(realm: $0.realm, engine: services.engine))
            }
            // A refused API keeps serving its previous version: refused at
            // plugin load (its id is known), or its file no longer parses.
            let refusedIDs = Set(definitions.apis.map(\.apiID)).subtracting(loaded.map(\.definition.apiID))
            let brokenFiles = Set(definitions.failures.map(\.file))
            let loadedIDs = Set(loaded.map(\.definition.apiID))
            routes += previous.routes.filter {
                refusedIDs.contains($0.api.definition.apiID)
                    || (brokenFiles.contains($0.api.definition.file) && !loadedIDs.contains($0.api.definition.apiID))
            }
            apiSettings.value = Dictionary(routes.map { ($0.api.definition.apiID, APISessionSettings(
                apiID: $0.api.definition.apiID, sessionLifetime: $0.api.definition.sessionLifetime,
                respectsKeyExpiration: $0.api.definition.sessionLifetimeRespectsKeyExpiration)) }, uniquingKeysWith: { first, _ in first })
            table.value = RouteTable(routes: routes, generation: generation)
            let kept = Set(routes.map(\.api.realm))
            for route in previous.routes where !kept.contains(route.api.realm) { route.lease.retire() }
            let messages = policyFailures + definitions.failures.map(\.description) + realmFailures
            failures.value = messages
            services.logger.info("loaded \(loaded.count) API(s) and \(services.policies.current.policies.count) policies, refused \(messages.count)")
            return messages
        }
    }

    /// Handles one request: admin paths first (unless `servesAdmin` is
    /// false, on a listener that is not the control API's), then the API
    /// whose listen path matches, through its pipeline.
    public func handle(method: String, path: String, query: String?, headers: HeaderList, body: [UInt8],
                       scheme: String = "http", remoteAddress: String? = nil, servesAdmin: Bool = true) async -> GatewayResponse {
        if servesAdmin, let admin = await AdminAPI(gateway: self).handle(method: method, path: path, query: query, headers: headers, body: body) {
            return admin
        }
        if !servesAdmin, AdminAPI.isAdminPath(path) {
            return GatewayResponse.error(status: 404, message: GatewayError.noAPI(path: path).message)
        }
        guard let route = enterRoute(for: path) else {
            return GatewayResponse.error(status: 404, message: GatewayError.noAPI(path: path).message)
        }
        defer { route.lease.leave() }
        var request = GatewayRequest(id: RequestID.next(), api: route.api, method: method, path: path, query: query,
                                     headers: headers, body: body, scheme: scheme, remoteAddress: remoteAddress)
        request.trace = services.tracing?.trace(request)
        let response = await route.pipeline.handle(request, services: services)
        request.trace?.finish(status: response.status)
        await services.race?.flush(requestID: request.id, sessions: services.sessions)
        services.metrics.recordRequest(api: route.api.definition.apiID, status: response.status)
        return response
    }

    /// The route serving `path`, entered: its version stays loaded until
    /// the caller's `lease.leave()`.
    func enterRoute(for path: String) -> RouteTable.Route? {
        table.withLock { routes -> RouteTable.Route? in
            guard let route = routes.match(path) else { return nil }
            route.lease.enter()
            return route
        }
    }

    /// What `TykGetKeyData(key, apiID)` answers inside `apiID`'s plugins,
    /// evaluated by the engine in that API's realm (the session JSON, or
    /// Tyk's `{"status":"error",…}` text). Used by scenarios and tools to
    /// see a session exactly as a plugin does.
    public func pluginKeyData(key: String, apiID: String) async throws -> String {
        guard let route = table.value.routes.first(where: { $0.api.definition.apiID == apiID }) else {
            throw GatewayError.pluginFailed("no API with api_id '\(apiID)' is loaded")
        }
        let host = services.pluginHost(apiID: apiID, orgID: route.api.definition.orgID)
        let call = "TykGetKeyData(\(JSONValue.string(key).jsonString()), \(JSONValue.string(apiID).jsonString()))"
        let answer = try await services.engine.evaluate(call, realm: route.api.realm, host: host)
        guard case .string(let text) = try JSONValue(parsing: answer) else {
            throw GatewayError.pluginFailed("TykGetKeyData returned \(answer), not a string")
        }
        return text
    }

    /// Finishes deferred writes and closes connections.
    public func shutdown() async {
        sampler.withLock { $0?.cancel() }
        await services.sessions.stop()
        await services.upstream.shutdown()
        try? await services.transport.shutdown()
        services.engine.shutdown()
        await services.tracing?.shutdown()
    }
}

extension Logger {
    /// A copy of this logger for one part of the node, so every line goes
    /// to the handler the embedder chose and says where it came from.
    func component(_ name: String) -> Logger {
        var copy = self
        copy[metadataKey: "component"] = .string(name)
        return copy
    }
}

/// Serialises async sections (one reload at a time).
actor AsyncLock {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func withLock<T: Sendable>(_ body: @Sendable () async -> T) async -> T {
        while busy {
            await withCheckedContinuation { waiters.append($0) }
        }
        busy = true
        let result = await body()
        busy = false
        if !waiters.isEmpty { waiters.removeFirst().resume() }
        return result
    }
}
