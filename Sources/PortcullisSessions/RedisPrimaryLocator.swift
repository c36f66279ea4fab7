import Logging
import NIOCore
import PortcullisCore

/// Where the Redis primary is. Without Sentinel it is the configured
/// address. With Sentinel it is what the sentinels answer to
/// `SENTINEL get-master-addr-by-name`, asked in turn until one answers,
/// kept until a connection finds the address dead or not a primary, and
/// replaced at once when a sentinel announces `+switch-master` on its
/// pub/sub channel. Listeners (the command pool, the pub/sub connection)
/// are told of every change and drop their connections to the old one.
final class RedisPrimaryLocator: Sendable {
    private struct State {
        var primary: RedisAddress?
        var asking: EventLoopFuture<RedisAddress>?
        var listeners: [@Sendable () -> Void] = []
        var watcher: Channel?
        var watching = false
        var nextSentinel = 0
        var backoffMilliseconds: Int64 = 100
        var isShutDown = false
    }

    private let configuration: RedisConfiguration
    private let state = Locked(State())
    private let connector = Locked<RedisConnector?>(nil)
    private let logger: Logger

    init(configuration: RedisConfiguration, logger: Logger = Logger(label: "portcullis.sessions.redis")) {
        self.configuration = configuration
        self.logger = logger
    }

    func attach(_ connector: RedisConnector) {
        self.connector.value = connector
    }

    /// Whether the primary comes from sentinels.
    var followsSentinels: Bool { configuration.sentinel != nil }

    /// Calls `listener` whenever the primary changes.
    func onChange(_ listener: @escaping @Sendable () -> Void) {
        state.withLock { $0.listeners.append(listener) }
    }

    /// The primary's address: at once when known, else from the sentinels.
    func primary() -> EventLoopFuture<RedisAddress> {
        guard let connector = connector.value else {
            return MultiThreadedEventLoopGroupSingleton.next().makeFailedFuture(SessionStoreError.shutDown)
        }
        guard let sentinel = configuration.sentinel else {
            return connector.group.next().makeSucceededFuture(RedisAddress(host: configuration.host, port: configuration.port))
        }
        enum Pick { case known(RedisAddress), wait(EventLoopFuture<RedisAddress>), ask(EventLoopPromise<RedisAddress>), shutDown }
        let pick = state.withLock { s -> Pick in
            if s.isShutDown { return .shutDown }
            if let primary = s.primary { return .known(primary) }
            if let asking = s.asking { return .wait(asking) }
            let promise = connector.group.next().makePromise(of: RedisAddress.self)
            s.asking = promise.futureResult
            return .ask(promise)
        }
        switch pick {
        case .known(let address): return connector.group.next().makeSucceededFuture(address)
        case .wait(let future): return future
        case .shutDown: return connector.group.next().makeFailedFuture(SessionStoreError.shutDown)
        case .ask(let promise):
            startWatching()
            ask(sentinel, from: 0, connector: connector, failures: [], promise: promise)
            promise.futureResult.whenComplete { [state] result in
                state.withLock { s in
                    s.asking = nil
                    if case .success(let address) = result, !s.isShutDown { s.primary = address }
                }
            }
            return promise.futureResult
        }
    }

    /// A connection found `address` unreachable or not a primary: ask again next time.
    func forget(_ address: RedisAddress) {
        guard followsSentinels else { return }
        let changed = state.withLock { s -> Bool in
            guard s.primary == address else { return false }
            s.primary = nil
            return true
        }
        if changed { notify() }
    }

    func shutdown() {
        let watcher = state.withLock { s -> Channel? in
            s.isShutDown = true
            defer { s.watcher = nil }
            return s.watcher
        }
        watcher?.close(promise: nil)
        connector.value = nil
    }

    private func notify() {
        for listener in state.withLock({ $0.listeners }) { listener() }
    }

    /// Asks sentinel `index`, then the next, until one names the primary.
    private func ask(_ sentinel: RedisSentinelSettings, from index: Int, connector: RedisConnector, failures: [String],
                     promise: EventLoopPromise<RedisAddress>) {
        guard index < sentinel.sentinels.count else {
            promise.fail(SessionStoreError.unavailable(
                reason: "no sentinel named the primary of '\(sentinel.masterName)': \(failures.joined(separator: "; "))"))
            return
        }
        let address = RedisAddress(host: sentinel.sentinels[index].host, port: sentinel.sentinels[index].port)
        let handshake = sentinel.password.isEmpty ? [] : [["AUTH", sentinel.password]]
        RedisConnection.open(address, connector: connector, handshake: handshake, isSentinel: true, checkPrimary: false)
            .flatMap { connection in
                connection.send(["SENTINEL", "get-master-addr-by-name", sentinel.masterName]).always { _ in connection.close() }
            }
            .whenComplete { [self] result in
                switch result {
                case .success(.array(let items?)) where items.count == 2:
                    if let host = items[0].text, let port = items[1].text.flatMap({ Int($0) }) {
                        promise.succeed(RedisAddress(host: host, port: port))
                        return
                    }
                    ask(sentinel, from: index + 1, connector: connector, failures: failures + ["\(address): unreadable answer"], promise: promise)
                case .success(let reply) where reply.isNull:
                    ask(sentinel, from: index + 1, connector: connector,
                        failures: failures + ["\(address) monitors no master named '\(sentinel.masterName)'"], promise: promise)
                case .success(.error(let message)):
                    let error = RedisConnector.handshakeError("SENTINEL", message, sentinel: true)
                    if case .misconfigured = error { promise.fail(error); return }
                    ask(sentinel, from: index + 1, connector: connector, failures: failures + ["\(address): \(message)"], promise: promise)
                case .success(let reply):
                    ask(sentinel, from: index + 1, connector: connector, failures: failures + ["\(address): \(reply.summary)"], promise: promise)
                case .failure(let error):
                    if case SessionStoreError.misconfigured = error { promise.fail(error); return }
                    ask(sentinel, from: index + 1, connector: connector, failures: failures + ["\(address): \(error)"], promise: promise)
                }
            }
    }

    // MARK: Watching +switch-master

    private func startWatching() {
        let start = state.withLock { s -> Bool in
            guard !s.watching, !s.isShutDown else { return false }
            s.watching = true
            return true
        }
        if start { watch() }
    }

    /// Subscribes to `+switch-master` on one sentinel; on loss, moves to
    /// the next sentinel and asks for the primary again (a switch may
    /// have happened meanwhile).
    private func watch() {
        guard let sentinel = configuration.sentinel, let connector = connector.value else { return }
        let index = state.withLock { s -> Int in
            defer { s.nextSentinel = (s.nextSentinel + 1) % max(1, sentinel.sentinels.count) }
            return s.nextSentinel
        }
        guard index < sentinel.sentinels.count else { return }
        let address = RedisAddress(host: sentinel.sentinels[index].host, port: sentinel.sentinels[index].port)
        connector.channel(to: address) { [self] channel in
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPFrameDecoder()))
            try channel.pipeline.syncOperations.addHandler(RedisPushHandler(received: { [self] value in
                switchAnnounced(value, masterName: sentinel.masterName)
            }, failed: { channel, _ in channel.close(promise: nil) }))
        }.whenComplete { [self] result in
            switch result {
            case .success(let channel):
                let keep = state.withLock { s -> Bool in
                    guard !s.isShutDown else { return false }
                    s.watcher = channel
                    s.backoffMilliseconds = 100
                    return true
                }
                guard keep else { channel.close(promise: nil); return }
                if !sentinel.password.isEmpty {
                    channel.writeAndFlush(RESPEncoder.command(["AUTH", sentinel.password], allocator: channel.allocator), promise: nil)
                }
                channel.writeAndFlush(RESPEncoder.command(["SUBSCRIBE", "+switch-master"], allocator: channel.allocator), promise: nil)
                channel.closeFuture.whenComplete { [self] _ in watcherLost(channel) }
            case .failure(let error):
                logger.debug("sentinel \(address) cannot be watched: \(error)")
                rewatchLater()
            }
        }
    }

    private func watcherLost(_ channel: Channel) {
        let current = state.withLock { s -> Bool in
            guard s.watcher === channel else { return false }
            s.watcher = nil
            s.primary = nil
            return !s.isShutDown
        }
        guard current else { return }
        logger.warning("lost the sentinel watch for +switch-master; asking the sentinels for the primary again")
        notify()
        rewatchLater()
    }

    private func rewatchLater() {
        let delay = state.withLock { s -> Int64? in
            guard !s.isShutDown else { return nil }
            let delay = s.backoffMilliseconds
            s.backoffMilliseconds = min(2000, s.backoffMilliseconds * 2)
            return delay
        }
        guard let delay, let connector = connector.value else { return }
        connector.group.next().scheduleTask(in: .milliseconds(delay)) { [self] in watch() }
    }

    /// `message +switch-master "<name> <old-ip> <old-port> <new-ip> <new-port>"`.
    private func switchAnnounced(_ value: RESPValue, masterName: String) {
        guard case .array(let items?) = value, items.count == 3, items[0].text?.lowercased() == "message",
              items[1].text == "+switch-master", let payload = items[2].text else { return }
        let parts = payload.split(separator: " ").map(String.init)
        guard parts.count == 5, parts[0] == masterName, let port = Int(parts[4]) else { return }
        let address = RedisAddress(host: parts[3], port: port)
        state.withLock { s in s.primary = address }
        logger.warning("Redis primary of '\(masterName)' switched from \(parts[1]):\(parts[2]) to \(address)")
        notify()
    }
}

/// The group used when nothing else is at hand.
enum MultiThreadedEventLoopGroupSingleton {
    static func next() -> EventLoop { NIOSingletons.posixEventLoopGroup.next() }
}
