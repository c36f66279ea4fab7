import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import PortcullisCore
import ServiceLifecycle

/// Serves a ``Gateway`` over HTTP/1.1 (over TLS with
/// `http_server_options.use_ssl`) on SwiftNIO channel handlers until
/// SIGTERM or SIGINT, then drains: it stops accepting, lets every request
/// in flight finish and be answered, closes idle connections and shuts the
/// gateway down.
///
/// With `control_api_port` set, the admin API (`/tyk/…`) is served only on
/// that second listener (`control_api_hostname`, default the listen
/// address), so it can be bound to an address clients cannot reach.
public struct GatewayServer: Sendable {
    /// The gateway served.
    public let gateway: Gateway
    /// How long a drain waits for requests in flight before closing anyway.
    public var drainTimeout: Duration = .seconds(30)
    /// A client connection with nothing read or written for this long is
    /// closed, unless a request on it is still being answered (Tyk's
    /// default read timeout is 120 s as well).
    public var idleTimeout: TimeAmount = .seconds(120)

    /// Creates a server for `gateway`.
    public init(gateway: Gateway) {
        self.gateway = gateway
    }

    /// Runs until a shutdown signal. `onListening` receives the bound
    /// port; `onControlListening` the control API's, when it has its own.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in },
                    onControlListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let config = gateway.services.config
        let limits = GatewayChannelHandler.Limits(
            maxBodyBytes: config.maxRequestBodySize > 0 ? config.maxRequestBodySize : 10 << 20,
            maxHeaderBytes: config.maxHeaderBytes, idleTimeout: idleTimeout)
        let separateControl = config.controlAPIPort > 0 && config.controlAPIPort != config.listenPort
        // Certificates are read before anything listens: a bad file refuses the start.
        let tls: NIOSSLContext?
        do {
            tls = try config.listenerTLS.map(ListenerTLS.makeContext)
        } catch {
            await gateway.shutdown()
            throw error
        }
        var services: [any Service] = [Listener(
            gateway: gateway, host: config.listenAddress, port: config.listenPort, servesAdmin: !separateControl,
            limits: limits, serverName: "portcullis", tls: tls, drainTimeout: drainTimeout, onListening: onListening)]
        if separateControl {
            let host = config.controlAPIHostname.isEmpty ? config.listenAddress : config.controlAPIHostname
            services.append(Listener(
                gateway: gateway, host: host, port: config.controlAPIPort, servesAdmin: true, limits: limits,
                serverName: "portcullis-control", tls: config.controlAPIUseSSL ? tls : nil, drainTimeout: drainTimeout,
                onListening: onControlListening))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: gateway.services.logger))
        do {
            try await group.run()
        } catch {
            await gateway.shutdown()
            throw error
        }
        await gateway.shutdown()
    }
}

/// One listening socket and the connections it accepted.
private struct Listener: Service {
    let gateway: Gateway
    let host: String
    let port: Int
    let servesAdmin: Bool
    let limits: GatewayChannelHandler.Limits
    let serverName: String
    let tls: NIOSSLContext?
    let drainTimeout: Duration
    let onListening: @Sendable (Int) async -> Void

    func run() async throws {
        let connections = ConnectionRegistry()
        let gateway = gateway
        let servesAdmin = servesAdmin
        let limits = limits
        let serverName = serverName
        let tls = tls
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                do {
                    let sync = channel.pipeline.syncOperations
                    if let tls { try sync.addHandler(NIOSSLServerHandler(context: tls)) }
                    try sync.addHandler(GatewayChannelHandler(gateway: gateway, servesAdmin: servesAdmin, limits: limits,
                                                              serverName: serverName, scheme: tls == nil ? "http" : "https"))
                    connections.add(channel)
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        let server = try await bootstrap.bind(host: host, port: port).get()
        await onListening(server.localAddress?.port ?? port)
        try? await gracefulShutdown()
        try? await server.close()
        await connections.drain(timeout: drainTimeout)
    }
}

/// The open connections of one listener, so a drain can reach each.
private final class ConnectionRegistry: Sendable {
    private let channels = Locked<[ObjectIdentifier: any Channel]>([:])

    func add(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        channels.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { [self] _ in
            _ = channels.withLock { $0.removeValue(forKey: id) }
        }
    }

    /// Asks every connection to finish its requests and close; waits for
    /// them up to `timeout`, then closes what is left.
    func drain(timeout: Duration) async {
        let open = channels.withLock { Array($0.values) }
        for channel in open { channel.pipeline.fireUserInboundEventTriggered(DrainConnection()) }
        let deadline = ContinuousClock.now + timeout
        for channel in open {
            while channel.isActive && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            if channel.isActive { try? await channel.close() }
        }
    }
}
