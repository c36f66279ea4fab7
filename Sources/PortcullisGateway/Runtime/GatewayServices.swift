import Logging
import NIOPosix
import PortcullisCore
import PortcullisJS
import PortcullisSessions
import Tracing

/// The long-lived parts every stage uses: the JS engine, the session layer,
/// the upstream client, the HTTP transport for plugins, metrics, the clock.
/// One per gateway node; stages hold it, never globals. A class, so a stage
/// or request that holds it costs one reference, not one per service.
public final class GatewayServices: Sendable {
    /// The gateway configuration.
    public let config: GatewayConfig
    /// The JavaScript engine.
    public let engine: JSEngine
    /// The session layer.
    public let sessions: SessionManager
    /// The store under the session layer, for rate-limit counters.
    public let store: any SessionStore
    /// The plugin key-value store (`TykStorage*`).
    public let pluginStorage: PluginKeyValueStore
    /// Forwards requests upstream over per-event-loop keep-alive pools.
    public let upstream: UpstreamClient
    /// Sends plugin HTTP requests.
    public let transport: HTTPClientTransport
    /// The request-side metrics.
    public let metrics: GatewayMetrics
    /// Process and JS engine metrics, sampled on scrape.
    public let runtimeMetrics: RuntimeMetrics
    /// The clock for expiry and rate windows.
    public let clock: any GatewayClock
    /// The gateway log.
    public let logger: Logger
    /// How plugin session writes reach auth (``SessionSemantics/consistent``
    /// unless a scenario asks for Tyk's race).
    public let semantics: SessionSemantics
    /// A task executor on each of NIO's event loops: where a request's
    /// waiting stages run (its own loop) and where plugin bindings await
    /// the store, whose replies arrive on those loops.
    let loopExecutors = EventLoopTaskExecutors(group: MultiThreadedEventLoopGroup.singleton)
    /// Runs `tyk://` loops through the APIs being served.
    public let loops = LoopRouter()
    /// The security policies keys name in `apply_policies`.
    public let policies: PolicyRegistry
    /// The stale cache and deferred writes of ``SessionSemantics/tykRace``;
    /// nil under the consistency contract.
    let race: TykRaceEmulation?
    /// Span export when `opentelemetry.enabled`; nil otherwise.
    let tracing: GatewayTracing?

    /// Creates the service set.
    public init(config: GatewayConfig, engine: JSEngine, sessions: SessionManager, store: any SessionStore, pluginStorage: PluginKeyValueStore,
                upstream: UpstreamClient, transport: HTTPClientTransport, metrics: GatewayMetrics, clock: any GatewayClock,
                logger: Logger, semantics: SessionSemantics = .consistent, policies: PolicyRegistry = PolicyRegistry(),
                tracing: GatewayTracing? = nil) {
        self.config = config
        self.engine = engine
        self.sessions = sessions
        self.store = store
        self.pluginStorage = pluginStorage
        self.upstream = upstream
        self.transport = transport
        self.metrics = metrics
        self.runtimeMetrics = RuntimeMetrics(factory: metrics.backend.factory, engine: engine)
        self.clock = clock
        self.logger = logger
        self.semantics = semantics
        self.policies = policies
        self.tracing = tracing
        self.race = semantics == .tykRace ? TykRaceEmulation(clock: clock, logger: logger) : nil
    }

    /// A key as logs show it: masked unless `enable_key_logging` is on.
    public func displayKey(_ key: String) -> String {
        config.enableKeyLogging ? key : KeyMask.mask(key)
    }
}

extension GatewayServices {
    /// Runs one plugin call of `request` and records its wall time in
    /// `portcullis_plugin_duration_seconds`, whether it returned or threw;
    /// a traced request gets a span for the call, handed to `call` for the
    /// plugin host (see ``pluginHost(for:span:)``).
    func timedPlugin<T: Sendable>(_ request: GatewayRequest, plugin: String,
                                  _ call: ((any Span)?) async throws -> T) async throws -> T {
        let measured = PluginCall(request, plugin: plugin,
                                  timer: metrics.pluginDurationTimer(api: request.api.definition.apiID, plugin: plugin))
        do {
            let result = try await call(measured.span)
            measured.finish(error: nil)
            return result
        } catch {
            measured.finish(error: error)
            throw error
        }
    }
}
