import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Serves a ``Gateway`` over HTTP/1.1 with Hummingbird until SIGTERM or
/// SIGINT, then drains in-flight requests and shuts the gateway down.
///
/// With `control_api_port` set, the admin API (`/tyk/…`) is served only on
/// that second listener (`control_api_hostname`, default the listen
/// address), so it can be bound to an address clients cannot reach.
public struct GatewayServer: Sendable {
    /// The gateway served.
    public let gateway: Gateway

    /// Creates a server for `gateway`.
    public init(gateway: Gateway) {
        self.gateway = gateway
    }

    /// Runs until a shutdown signal. `onListening` receives the bound
    /// port; `onControlListening` the control API's, when it has its own.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in },
                    onControlListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let config = gateway.services.config
        let maxBody = config.maxRequestBodySize > 0 ? config.maxRequestBodySize : 10 << 20
        let separateControl = config.controlAPIPort > 0 && config.controlAPIPort != config.listenPort
        var services: [any Service] = [Application(
            responder: GatewayResponder(gateway: gateway, maxBodyBytes: maxBody, maxHeaderBytes: config.maxHeaderBytes,
                                        servesAdmin: !separateControl),
            configuration: ApplicationConfiguration(address: .hostname(config.listenAddress, port: config.listenPort),
                                                    serverName: "portcullis"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? config.listenPort) },
            logger: gateway.services.logger)]
        if separateControl {
            let host = config.controlAPIHostname.isEmpty ? config.listenAddress : config.controlAPIHostname
            services.append(Application(
                responder: GatewayResponder(gateway: gateway, maxBodyBytes: maxBody, maxHeaderBytes: config.maxHeaderBytes,
                                            servesAdmin: true),
                configuration: ApplicationConfiguration(address: .hostname(host, port: config.controlAPIPort),
                                                        serverName: "portcullis-control"),
                onServerRunning: { channel in await onControlListening(channel.localAddress?.port ?? config.controlAPIPort) },
                logger: gateway.services.logger))
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
