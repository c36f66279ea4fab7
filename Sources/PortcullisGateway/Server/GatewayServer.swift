import Hummingbird
import Logging
import NIOCore

/// Serves a ``Gateway`` over HTTP/1.1 with Hummingbird until SIGTERM or
/// SIGINT, then drains in-flight requests and shuts the gateway down.
public struct GatewayServer: Sendable {
    /// The gateway served.
    public let gateway: Gateway

    /// Creates a server for `gateway`.
    public init(gateway: Gateway) {
        self.gateway = gateway
    }

    /// Runs until a shutdown signal. `onListening` receives the bound port.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let config = gateway.services.config
        let maxBody = config.maxRequestBodySize > 0 ? config.maxRequestBodySize : 10 << 20
        let app = Application(
            responder: GatewayResponder(gateway: gateway, maxBodyBytes: maxBody),
            configuration: ApplicationConfiguration(address: .hostname(config.listenAddress, port: config.listenPort),
                                                    serverName: "portcullis"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? config.listenPort) },
            logger: gateway.services.logger)
        do {
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        } catch {
            await gateway.shutdown()
            throw error
        }
        await gateway.shutdown()
    }
}
