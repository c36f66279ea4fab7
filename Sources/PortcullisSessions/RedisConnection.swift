import NIOCore
import NIOPosix

/// One TCP connection to Redis carrying pipelined commands: many callers
/// may send at once, replies are matched in order.
final class RedisConnection: Sendable {
    let channel: Channel
    private let configuration: RedisConfiguration

    private init(channel: Channel, configuration: RedisConfiguration) {
        self.channel = channel
        self.configuration = configuration
    }

    /// Whether the connection can still carry commands.
    var isActive: Bool { channel.isActive }

    /// Connects, then authenticates and selects the database if configured.
    static func connect(_ configuration: RedisConfiguration, group: EventLoopGroup) -> EventLoopFuture<RedisConnection> {
        let address = configuration.address
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(Int64(configuration.connectTimeout * 1000)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(RedisCommandHandler(address: address))
                }
            }
        let loop = group.next()
        return bootstrap.connect(host: configuration.host, port: configuration.port)
            .flatMapErrorThrowing { error in
                throw SessionStoreError.unavailable(reason: "cannot connect to \(address): \(error)")
            }
            .flatMap { channel -> EventLoopFuture<RedisConnection> in
                let connection = RedisConnection(channel: channel, configuration: configuration)
                var setup = channel.eventLoop.makeSucceededVoidFuture()
                if !configuration.password.isEmpty {
                    setup = setup.flatMap { connection.sendExpectingOK(["AUTH", configuration.password], name: "AUTH") }
                }
                if configuration.database != 0 {
                    setup = setup.flatMap { connection.sendExpectingOK(["SELECT", String(configuration.database)], name: "SELECT") }
                }
                return setup.map { connection }.flatMapError { error in
                    channel.close(promise: nil)
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .hop(to: loop)
    }

    /// Sends one command; the future fails with ``SessionStoreError`` on
    /// timeout, a closed connection or a broken stream.
    func send(_ arguments: [String]) -> EventLoopFuture<RESPValue> {
        let loop = channel.eventLoop
        let reply = loop.makePromise(of: RESPValue.self)
        let seconds = configuration.commandTimeout
        let name = arguments.first ?? "?"
        let timer = loop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {
            reply.fail(SessionStoreError.timeout(command: name, seconds: seconds))
        }
        reply.futureResult.whenComplete { _ in timer.cancel() }
        let bytes = RESPEncoder.command(arguments, allocator: channel.allocator)
        channel.writeAndFlush(RedisRequest(bytes: bytes, reply: reply)).whenFailure { [channel] error in
            reply.fail(SessionStoreError.unavailable(reason: "cannot send \(name) to \(self.configuration.address): \(error)"))
            channel.close(promise: nil)
        }
        return reply.futureResult
    }

    /// Sends one command and waits for its reply.
    func send(_ arguments: [String]) async throws -> RESPValue {
        try await send(arguments).get()
    }

    private func sendExpectingOK(_ arguments: [String], name: String) -> EventLoopFuture<Void> {
        send(arguments).flatMapThrowing { reply in
            if case .error(let message) = reply { throw SessionStoreError.serverError(command: name, message: message) }
        }
    }

    /// Closes the connection.
    func close() {
        channel.close(promise: nil)
    }
}
