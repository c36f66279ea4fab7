import ArgumentParser
import CoreMetrics
import Foundation
import Logging
import Prometheus
import PortcullisCore
import PortcullisGateway
import PortcullisSessions

/// `portcullis serve`: run a gateway node.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the APIs of a tyk.conf-style configuration.",
        discussion: """
        With no options, serves examples/ (examples/tyk.conf) on the embedded in-memory store \
        at http://127.0.0.1:8080:
          curl http://127.0.0.1:8080/hello/greet?name=Ada
          curl http://127.0.0.1:8080/quickstart/greet
          curl -H 'x-session-key: my-key' http://127.0.0.1:8080/forum/greet
          curl -H 'x-tyk-authorization: portcullis-example-secret' \\
              http://127.0.0.1:8080/tyk/keys/my-key

        Several nodes share sessions through Redis (the config's storage section also takes \
        Sentinel, TLS, credentials and wait_replicas):
          portcullis serve --config tyk.conf --store redis://127.0.0.1:6379

        API definitions (Tyk classic or Tyk OAS JSON, one per file) are read from the config's app_path, \
        security policies from its policies section. \
        A file with an error is refused with its file and field named; the others serve. \
        POST /tyk/reload re-reads them without dropping requests; --watch does the same whenever a \
        definition or plugin file changes. An API whose new version is broken keeps serving its old \
        one, and the reason is logged. SIGTERM drains and stops.

        Logs go to standard error; --log-format json writes one JSON object per line with \
        request_id, api_id, the masked key and the plugin name as fields.
        """
    )

    @Option(help: "Gateway config file (tyk.conf format). Default: examples/tyk.conf.")
    var config: String?

    @Option(help: "Session store: memory, redis://[USER:PASSWORD@]HOST:PORT[/DB], or rediss://... for TLS. Overrides the config's storage host, port, credentials and database; Sentinel and TLS files come from the config.")
    var store: String?

    @Option(help: "Port to listen on. Overrides listen_port.")
    var port: Int?

    @Option(help: "Address to listen on. Overrides listen_address.")
    var listen: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Flag(help: "Reload when an API definition or plugin file changes (checked every second), as POST /tyk/reload does.")
    var watch = false

    @Option(help: "Log format: text, or json (one object per line with request_id, api_id, masked key and plugin).")
    var logFormat: CommandSupport.LogFormat = .text

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown --log-level '\(logLevel)'")
        }
        CommandSupport.bootstrapLogging(level, format: logFormat)
        let path = config ?? "examples/tyk.conf"
        var (settings, ignored) = try GatewayConfig.parse(try CommandSupport.readFile(path, what: "config"), file: path)
        let logger = Logger(label: "portcullis")
        if !ignored.isEmpty { logger.debug("\(path): ignoring fields \(ignored.joined(separator: ", "))") }
        if let port { settings.listenPort = port }
        if let listen { settings.listenAddress = listen }
        if let store { try StoreOption.apply(store, to: &settings) }
        let sessionStore = try StoreOption.make(settings.storage)
        try await StoreOption.verify(sessionStore, logger: logger)
        // One Prometheus registry for the process: the gateway's metrics and
        // any library's that records through swift-metrics, served at /metrics.
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(GatewayMetricsBackend.prometheusFactory(registry))
        let gateway = try await Gateway.start(config: settings, store: sessionStore, logger: logger, metrics: .prometheus(registry))
        for failure in gateway.lastLoadFailures { logger.error("\(failure)") }
        let address = settings.listenAddress
        let storeType = settings.storage.type
        let web = settings.listenerTLS == nil ? "http" : "https"
        let controlWeb = settings.controlAPIUseSSL ? "https" : "http"
        let controlHost = settings.controlAPIHostname.isEmpty ? address : settings.controlAPIHostname
        let appPath = settings.appPath
        let watcher = watch ? Task { await ReloadWatcher(gateway: gateway).run() } : nil
        defer { watcher?.cancel() }
        try await GatewayServer(gateway: gateway).run(onListening: { port in
            logger.info("portcullis serving \(gateway.loadedAPIs.count) API(s) on \(web)://\(address):\(port) (store: \(storeType))")
            if watcher != nil { logger.info("watching \(appPath) and its plugin files for changes") }
        }, onControlListening: { port in
            logger.info("admin API (/tyk/…) on \(controlWeb)://\(controlHost):\(port) only")
        })
    }
}

/// Why `serve` will not start: settings that can never work.
struct StartRefused: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

/// Parses `--store` and builds the store the config names.
enum StoreOption {
    static func apply(_ option: String, to settings: inout GatewayConfig) throws {
        if option == "memory" {
            settings.storage.type = "memory"
            return
        }
        guard let url = URLComponents(string: option), url.scheme == "redis" || url.scheme == "rediss", let host = url.host, !host.isEmpty else {
            throw ValidationError("--store must be memory, redis://[USER:PASSWORD@]HOST:PORT[/DB] or rediss://… (TLS), got '\(option)'")
        }
        settings.storage.type = "redis"
        if url.scheme == "rediss" { settings.storage.useSSL = true }
        if let user = url.user, !user.isEmpty, url.password != nil { settings.storage.username = user }
        settings.storage.host = host
        settings.storage.port = url.port ?? 6379
        if let database = Int(url.path.dropFirst()) { settings.storage.database = database }
        if let password = url.password { settings.storage.password = password }
    }

    /// Settings Redis refuses stop the start with the setting named; a
    /// Redis that is only unreachable now is a warning (requests that need
    /// it fail closed with 503 until it answers).
    static func verify(_ store: any SessionStore, logger: Logger) async throws {
        guard let redis = store as? RedisStore else { return }
        do {
            try await redis.verify()
        } catch let error as SessionStoreError {
            if case .misconfigured = error {
                await redis.shutdown()
                throw StartRefused(reason: "\(error)")
            }
            logger.warning("Redis is not reachable now; requests that need the store get 503 until it is: \(error)")
        }
    }

    static func make(_ storage: StorageConfig) throws -> any SessionStore {
        switch storage.type {
        case "redis":
            return RedisStore(configuration: storage.redisConfiguration)
        default:
            return MemoryStore()
        }
    }
}
