import Logging
import NIOCore
import NIOPosix
import PortcullisCore

/// The dedicated pub/sub connection. It reconnects by itself after Redis
/// goes away (backing off from 50 ms to 1 s), resubscribes every channel,
/// and tells each subscriber when its subscription is lost and when it is
/// live again. A PING heartbeat detects a server that stopped answering
/// without closing the connection.
final class RedisSubscriber: Sendable {
    private struct Handler {
        var channel: String
        var deliver: @Sendable (SubscriptionEvent) -> Void
    }

    private struct State {
        var handlers: [UInt64: Handler] = [:]
        var nextID: UInt64 = 0
        var channel: Channel?
        var connecting = false
        var confirmed: Set<String> = []
        var requested: Set<String> = []
        var backoffMilliseconds: Int64 = 50
        var isShutDown = false
        var lastPong: NIODeadline = .now()
        var heartbeat: RepeatedTask?
    }

    private let configuration: RedisConfiguration
    private let connector: RedisConnector
    private let group: EventLoopGroup
    private let logger: Logger
    private let state = Locked(State())

    init(connector: RedisConnector, logger: Logger) {
        self.configuration = connector.configuration
        self.connector = connector
        self.group = connector.group
        self.logger = logger
        // A new primary: leave the old one; the reconnect finds the new one.
        connector.locator.onChange { [weak self] in self?.leaveCurrentServer() }
    }

    /// The server the pub/sub connection is on, for messages.
    private var address: String {
        state.withLock { s in s.channel?.remoteAddress.map { "\($0)" } } ?? configuration.address
    }

    private func leaveCurrentServer() {
        state.withLock { $0.channel }?.close(promise: nil)
    }

    /// Registers `deliver` for `channel` and makes sure the connection and
    /// the subscription exist.
    func subscribe(channel name: String, deliver: @escaping @Sendable (SubscriptionEvent) -> Void) -> StoreSubscription {
        let (id, live, sendOn, connect) = state.withLock { s -> (UInt64, Bool, Channel?, Bool) in
            s.nextID += 1
            s.handlers[s.nextID] = Handler(channel: name, deliver: deliver)
            var sendOn: Channel?
            if let channel = s.channel, !s.requested.contains(name) {
                s.requested.insert(name)
                sendOn = channel
            }
            let connect = s.channel == nil && !s.connecting && !s.isShutDown
            if connect { s.connecting = true }
            return (s.nextID, s.confirmed.contains(name), sendOn, connect)
        }
        if live { deliver(.subscribed) }
        if let sendOn { write(["SUBSCRIBE", name], on: sendOn) }
        if connect { self.connect() }
        return StoreSubscription { [self] in unsubscribe(id) }
    }

    /// Drops one handler; the last one of a channel unsubscribes it, so
    /// Redis stops counting this connection as a receiver.
    private func unsubscribe(_ id: UInt64) {
        let sendOn = state.withLock { s -> (Channel, String)? in
            guard let removed = s.handlers.removeValue(forKey: id) else { return nil }
            guard !s.handlers.values.contains(where: { $0.channel == removed.channel }) else { return nil }
            s.requested.remove(removed.channel)
            s.confirmed.remove(removed.channel)
            guard let channel = s.channel else { return nil }
            return (channel, removed.channel)
        }
        if let (channel, name) = sendOn { write(["UNSUBSCRIBE", name], on: channel) }
    }

    /// Closes the connection for good.
    func shutdown() {
        let (channel, heartbeat) = state.withLock { s -> (Channel?, RepeatedTask?) in
            s.isShutDown = true
            defer { s.channel = nil; s.heartbeat = nil }
            return (s.channel, s.heartbeat)
        }
        heartbeat?.cancel()
        channel?.close(promise: nil)
    }

    private func connect() {
        connector.locator.primary().flatMap { [self] primary in
            connector.channel(to: primary) { [self] channel in
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPFrameDecoder()))
                try channel.pipeline.syncOperations.addHandler(RedisPushHandler(received: { [weak self] value in self?.received(value) },
                                                                                failed: { [weak self] channel, error in self?.failed(channel, error: error) }))
            }.flatMapErrorThrowing { error in
                if case SessionStoreError.misconfigured = error {} else { self.connector.locator.forget(primary) }
                throw error
            }
        }.whenComplete { [self] result in
            switch result {
            case .success(let channel):
                connected(channel)
            case .failure(let error):
                logger.debug("pub/sub connection to the Redis primary failed: \(error)")
                scheduleReconnect()
            }
        }
    }

    private func connected(_ channel: Channel) {
        let channels = state.withLock { s -> [String]? in
            guard !s.isShutDown else { return nil }
            s.channel = channel
            s.connecting = false
            s.backoffMilliseconds = 50
            s.lastPong = .now()
            s.requested = Set(s.handlers.values.map(\.channel))
            return Array(s.requested)
        }
        guard let channels else {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { [self] _ in disconnected(channel) }
        if let auth = connector.primaryAuth { write(auth, on: channel) }
        if !channels.isEmpty { write(["SUBSCRIBE"] + channels, on: channel) }
        startHeartbeat(on: channel)
    }

    private func disconnected(_ channel: Channel) {
        let (handlers, wasCurrent, heartbeat) = state.withLock { s -> ([Handler], Bool, RepeatedTask?) in
            guard s.channel === channel else { return ([], false, nil) }
            s.channel = nil
            s.confirmed = []
            s.requested = []
            let heartbeat = s.heartbeat
            s.heartbeat = nil
            if !s.isShutDown { s.connecting = true }
            return (Array(s.handlers.values), !s.isShutDown, heartbeat)
        }
        heartbeat?.cancel()
        guard wasCurrent else { return }
        let server = channel.remoteAddress.map { "\($0)" } ?? configuration.address
        logger.warning("pub/sub connection to \(server) lost; node-local session cache is bypassed until resubscribed")
        for handler in handlers { handler.deliver(.lost(reason: "pub/sub connection to \(server) closed")) }
        scheduleReconnect()
    }

    private func scheduleReconnect() {
        let delay = state.withLock { s -> Int64? in
            guard !s.isShutDown else { return nil }
            s.connecting = true
            let delay = s.backoffMilliseconds
            s.backoffMilliseconds = min(1000, s.backoffMilliseconds * 2)
            return delay
        }
        guard let delay else { return }
        group.next().scheduleTask(in: .milliseconds(delay)) { [self] in connect() }
    }

    private func startHeartbeat(on channel: Channel) {
        let interval = TimeAmount.milliseconds(Int64(configuration.subscriptionHeartbeat * 1000))
        let limit = TimeAmount.milliseconds(Int64((configuration.subscriptionHeartbeat + configuration.commandTimeout) * 1000))
        let task = channel.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
            let last = state.withLock { s in s.lastPong }
            if NIODeadline.now() - last > limit {
                logger.warning("pub/sub connection to \(address) stopped answering PING; reconnecting")
                channel.close(promise: nil)
            } else {
                write(["PING"], on: channel)
            }
        }
        state.withLock { s in
            if s.channel === channel { s.heartbeat = task } else { task.cancel() }
        }
    }

    private func write(_ arguments: [String], on channel: Channel) {
        channel.writeAndFlush(RESPEncoder.command(arguments, allocator: channel.allocator), promise: nil)
    }

    // MARK: Called by the push handler on the event loop

    func received(_ value: RESPValue) {
        guard case .array(let items?) = value, let kind = items.first?.text?.lowercased() else {
            if case .error(let message) = value { logger.error("pub/sub connection: Redis error \(message)") }
            if case .simpleString(let text) = value, text == "PONG" { state.withLock { s in s.lastPong = .now() } }
            return
        }
        switch kind {
        case "message":
            guard items.count == 3, let channel = items[1].text, let payload = items[2].text else { return }
            let targets = state.withLock { s in s.handlers.values.filter { $0.channel == channel } }
            for handler in targets { handler.deliver(.message(payload)) }
        case "subscribe":
            guard items.count >= 2, let channel = items[1].text else { return }
            let targets = state.withLock { s -> [Handler] in
                s.confirmed.insert(channel)
                return s.handlers.values.filter { $0.channel == channel }
            }
            for handler in targets { handler.deliver(.subscribed) }
        case "pong":
            state.withLock { s in s.lastPong = .now() }
        default:
            break
        }
    }

    func failed(_ channel: Channel, error: Error) {
        logger.warning("pub/sub connection to \(address) failed: \(error)")
        channel.close(promise: nil)
    }
}

/// Hands pub/sub pushes to the ``RedisSubscriber``.
final class RedisPushHandler: ChannelInboundHandler {
    typealias InboundIn = RESPValue

    private let received: @Sendable (RESPValue) -> Void
    private let failed: @Sendable (Channel, Error) -> Void

    init(received: @escaping @Sendable (RESPValue) -> Void, failed: @escaping @Sendable (Channel, Error) -> Void) {
        self.received = received
        self.failed = failed
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received(unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failed(context.channel, error)
    }
}
