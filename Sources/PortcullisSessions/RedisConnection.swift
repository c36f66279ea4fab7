import NIOCore
import NIOPosix

/// One connection to Redis carrying pipelined commands: many callers may
/// send at once, replies are matched in order.
final class RedisConnection: Sendable {
    let channel: Channel
    let address: RedisAddress
    private let commandTimeout: Double

    private init(channel: Channel, address: RedisAddress, commandTimeout: Double) {
        self.channel = channel
        self.address = address
        self.commandTimeout = commandTimeout
    }

    /// Whether the connection can still carry commands.
    var isActive: Bool { channel.isActive }

    /// A connection to the primary, authenticated and on the configured
    /// database. With Sentinel the server must say it is the primary
    /// (`ROLE`); an address that is dead or demoted is forgotten, so the
    /// next connection asks the sentinels again.
    static func openPrimary(_ connector: RedisConnector) -> EventLoopFuture<RedisConnection> {
        let locator = connector.locator
        let handshake = connector.primaryHandshake
        return locator.primary().flatMap { address in
            open(address, connector: connector, handshake: handshake, isSentinel: false, checkPrimary: locator.followsSentinels)
                .flatMapErrorThrowing { error in
                    if case SessionStoreError.misconfigured = error {} else { locator.forget(address) }
                    throw error
                }
        }
    }

    /// Connects to `address`, then runs `handshake` (each command must
    /// succeed) and, with `checkPrimary`, checks `ROLE`.
    static func open(_ address: RedisAddress, connector: RedisConnector, handshake: [[String]], isSentinel: Bool,
                     checkPrimary: Bool) -> EventLoopFuture<RedisConnection> {
        let loop = connector.group.next()
        let timeout = connector.configuration.commandTimeout
        return connector.channel(to: address) { channel in
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPFrameDecoder()))
            try channel.pipeline.syncOperations.addHandler(RedisCommandHandler(address: address.description))
        }
        .flatMap { channel -> EventLoopFuture<RedisConnection> in
            let connection = RedisConnection(channel: channel, address: address, commandTimeout: timeout)
            var setup = channel.eventLoop.makeSucceededVoidFuture()
            for command in handshake {
                setup = setup.flatMap { connection.sendExpectingOK(command, isSentinel: isSentinel) }
            }
            if checkPrimary {
                setup = setup.flatMap { connection.checkPrimary() }
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
        let name = arguments.first ?? "?"
        let bytes = RESPEncoder.command(arguments, allocator: channel.allocator)
        // The connection's handler fails the command if its reply is overdue.
        channel.writeAndFlush(RedisRequest(bytes: bytes, reply: reply, name: name, timeout: commandTimeout)).whenFailure { [channel, address] error in
            reply.fail(SessionStoreError.unavailable(reason: "cannot send \(name) to \(address): \(error)"))
            channel.close(promise: nil)
        }
        return reply.futureResult
    }

    /// Sends one command and waits for its reply.
    func send(_ arguments: [String]) async throws -> RESPValue {
        try await send(arguments).get()
    }

    /// Sends `first` and `second` back to back on this connection (so
    /// `WAIT` follows the write it waits for) and waits for both replies.
    func sendPair(_ first: [String], _ second: [String]) async throws -> (RESPValue, RESPValue) {
        let a: EventLoopFuture<RESPValue> = send(first)
        let b: EventLoopFuture<RESPValue> = send(second)
        return (try await a.get(), try await b.get())
    }

    private func sendExpectingOK(_ arguments: [String], isSentinel: Bool) -> EventLoopFuture<Void> {
        let name = arguments.first ?? "?"
        return send(arguments).flatMapThrowing { reply in
            if case .error(let message) = reply { throw RedisConnector.handshakeError(name, message, sentinel: isSentinel) }
        }
    }

    private func checkPrimary() -> EventLoopFuture<Void> {
        send(["ROLE"]).flatMapThrowing { [address] reply in
            try RedisConnector.checkPrimaryRole(reply, of: address)
        }
    }

    /// Closes the connection.
    func close() {
        channel.close(promise: nil)
    }
}
