import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The keep-alive upstream connections of one event loop. A request that
/// arrives on this loop is forwarded over a connection of the same loop,
/// so the whole exchange runs on one thread with no hand-over.
///
/// Only touched on its event loop.
final class UpstreamConnectionPool: @unchecked Sendable {
    /// Connection settings shared by every loop's pool.
    struct Settings: Sendable {
        var connectTimeout: TimeAmount
        var idleTimeout: TimeAmount
        /// How often the pool looks for answers past their deadline and
        /// connections idle too long (one timer per loop, not one per request).
        var sweepInterval: TimeAmount
        var maxIdlePerTarget: Int
        var tls: NIOSSLContext?
        var tlsSetupError: String?
    }

    private final class Connection {
        let channel: any Channel
        let handler: UpstreamExchangeHandler
        /// When it was last parked idle; nil while busy.
        var idleSince: NIODeadline?

        init(channel: any Channel, handler: UpstreamExchangeHandler) {
            self.channel = channel
            self.handler = handler
        }
    }

    let eventLoop: any EventLoop
    private let settings: Settings
    /// Idle connections by target. A gateway talks to few targets, so a
    /// short list compared by equality beats hashing the target's strings
    /// on every request.
    private var idle: [(target: UpstreamTarget, connections: [Connection])] = []
    private var open: [Connection] = []
    private var sweep: Scheduled<Void>?
    private var closed = false

    init(eventLoop: any EventLoop, settings: Settings) {
        self.eventLoop = eventLoop
        self.settings = settings
    }

    /// Connections open now (idle or busy), for tests and metrics.
    var openConnections: Int { open.count }

    /// Sends `request` over an idle connection to its target, or a new one.
    /// A reused connection that turns out to be closed before any answer
    /// arrived is replaced once for idempotent methods, the way a browser
    /// or nginx retries a stale keep-alive connection.
    func send(_ request: UpstreamRequest, limit: Int, timeout: TimeAmount,
              completion: @escaping (Result<UpstreamAnswer, UpstreamFailure>) -> Void) {
        eventLoop.assertInEventLoop()
        guard !closed else {
            completion(.failure(.connect("the gateway is shutting down")))
            return
        }
        if let connection = takeIdle(request.target) {
            exchange(connection, request, limit: limit, timeout: timeout) { [self] result in
                if case .failure(.broken(_, receivedAnything: false)) = result, Self.isIdempotent(request.method) {
                    connectAndSend(request, limit: limit, timeout: timeout, completion: completion)
                } else {
                    completion(result)
                }
            }
            return
        }
        connectAndSend(request, limit: limit, timeout: timeout, completion: completion)
    }

    /// Closes every idle connection; busy ones close when their exchange ends.
    func close() {
        eventLoop.assertInEventLoop()
        closed = true
        sweep?.cancel()
        sweep = nil
        for bucket in idle {
            for connection in bucket.connections { connection.channel.close(promise: nil) }
        }
        idle.removeAll()
    }

    private func bucket(_ target: UpstreamTarget) -> Int? {
        idle.firstIndex { $0.target == target }
    }

    private func takeIdle(_ target: UpstreamTarget) -> Connection? {
        guard let index = bucket(target) else { return nil }
        while let connection = idle[index].connections.popLast() {
            connection.idleSince = nil
            if connection.handler.isReady { return connection }
            connection.channel.close(promise: nil)
        }
        return nil
    }

    private func exchange(_ connection: Connection, _ request: UpstreamRequest, limit: Int, timeout: TimeAmount,
                          completion: @escaping (Result<UpstreamAnswer, UpstreamFailure>) -> Void) {
        connection.handler.onExchangeEnded = { [self] reusable in
            if reusable {
                park(connection, request.target)
            } else {
                connection.channel.close(promise: nil)
            }
        }
        connection.handler.send(request, limit: limit, timeout: timeout, completion: completion)
    }

    private func park(_ connection: Connection, _ target: UpstreamTarget) {
        let index = bucket(target)
        guard !closed, connection.handler.isReady, (index.map { idle[$0].connections.count } ?? 0) < settings.maxIdlePerTarget else {
            connection.channel.close(promise: nil)
            return
        }
        connection.idleSince = .now()
        if let index {
            idle[index].connections.append(connection)
        } else {
            idle.append((target: target, connections: [connection]))
        }
    }

    private func connectAndSend(_ request: UpstreamRequest, limit: Int, timeout: TimeAmount,
                                completion: @escaping (Result<UpstreamAnswer, UpstreamFailure>) -> Void) {
        let target = request.target
        if target.usesTLS && settings.tls == nil {
            completion(.failure(.connect("TLS is not available: \(settings.tlsSetupError ?? "no TLS context")")))
            return
        }
        let handler = UpstreamExchangeHandler()
        let boundHandler = NIOLoopBound(handler, eventLoop: eventLoop)
        let tls = target.usesTLS ? settings.tls : nil
        let serverName = Self.isAddress(target.host) ? nil : target.host
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(settings.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                do {
                    let sync = channel.pipeline.syncOperations
                    if let tls { try sync.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: serverName)) }
                    try sync.addHandler(boundHandler.value)
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        bootstrap.connect(host: target.host, port: target.port).hop(to: eventLoop).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .failure(let error):
                completion(.failure(.connect("\(error)")))
            case .success(let channel):
                let connection = Connection(channel: channel, handler: handler)
                open.append(connection)
                armSweep()
                handler.onClose = { [self, weak connection] in
                    guard let connection else { return }
                    open.removeAll { $0 === connection }
                    guard let index = bucket(target),
                          let position = idle[index].connections.firstIndex(where: { $0 === connection }) else { return }
                    idle[index].connections.remove(at: position)
                }
                exchange(connection, request, limit: limit, timeout: timeout, completion: completion)
            }
        }
    }

    /// Starts the sweep while any connection is open.
    private func armSweep() {
        guard sweep == nil, !closed, !open.isEmpty else { return }
        sweep = eventLoop.assumeIsolated().scheduleTask(in: settings.sweepInterval) { [self] () -> Void in
            sweep = nil
            let now = NIODeadline.now()
            for connection in open {
                connection.handler.expire(dueBy: now)
                if let since = connection.idleSince, now - since >= settings.idleTimeout {
                    connection.channel.close(promise: nil)
                }
            }
            armSweep()
        }
    }

    private static func isIdempotent(_ method: HTTPMethod) -> Bool {
        switch method {
        case .GET, .HEAD, .OPTIONS, .PUT, .DELETE, .TRACE: return true
        default: return false
        }
    }

    /// IP literals get no SNI name (NIOSSL refuses them as host names).
    private static func isAddress(_ host: String) -> Bool {
        host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
    }
}
