import Logging
import NIOCore
import PortcullisCore

/// Where the Redis primary is. Without Sentinel it is the configured
/// address. With Sentinel it is what the sentinels answer to
/// `SENTINEL MASTER` (the answer with the highest config epoch), kept
/// until a connection finds the address dead or not a primary, and
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
        /// How many `+switch-master` announcements arrived.
        var switches = 0
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

    /// The primary's address when it is known without asking: the
    /// configured one, or the one the sentinels named last; nil while they
    /// are being asked or after ``forget(_:)``, and after shutdown.
    var knownPrimary: RedisAddress? {
        guard configuration.sentinel != nil else { return RedisAddress(host: configuration.host, port: configuration.port) }
        return state.withLock { s in s.isShutDown ? nil : s.primary }
    }

    /// The primary's address: at once when known, else from the sentinels.
    func primary() -> EventLoopFuture<RedisAddress> {
        guard let connector = connector.value else {
            return NIOSingletons.posixEventLoopGroup.next().makeFailedFuture(SessionStoreError.shutDown)
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
            let switchesBefore = state.withLock { $0.switches }
            ask(sentinel, connector: connector, promise: promise)
            let answer = promise.futureResult.map { [state] found -> RedisAddress in
                state.withLock { s -> RedisAddress in
                    s.asking = nil
                    // A switch announced while asking wins over the answers.
                    if s.switches != switchesBefore, let announced = s.primary { return announced }
                    if !s.isShutDown { s.primary = found }
                    return found
                }
            }
            answer.whenFailure { [state] _ in state.withLock { $0.asking = nil } }
            return answer
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

    /// Asks every sentinel (`SENTINEL MASTER`) and takes the answer with
    /// the highest config epoch: right after a failover the sentinels that
    /// did not lead it still name the old primary for a while, and an old
    /// primary that restarts empty says it is a primary until Sentinel
    /// demotes it, so the first answer is not good enough.
    private func ask(_ sentinel: RedisSentinelSettings, connector: RedisConnector, promise: EventLoopPromise<RedisAddress>) {
        let handshake = sentinel.password.isEmpty ? [] : [["AUTH", sentinel.password]]
        let loop = connector.group.next()
        let answers: [EventLoopFuture<Result<(RedisAddress, Int64), SessionStoreError>>] = sentinel.sentinels.map { entry in
            let address = RedisAddress(host: entry.host, port: entry.port)
            return RedisConnection.open(address, connector: connector, handshake: handshake, isSentinel: true, checkPrimary: false)
                .flatMap { connection in
                    connection.send(["SENTINEL", "MASTER", sentinel.masterName]).always { _ in connection.close() }
                }
                .map { reply -> Result<(RedisAddress, Int64), SessionStoreError> in Self.primary(in: reply, from: address, name: sentinel.masterName) }
                .recover { error in .failure(error as? SessionStoreError ?? .unavailable(reason: "\(address): \(error)")) }
        }
        EventLoopFuture.whenAllComplete(answers, on: loop).whenComplete { outcome in
            let results = ((try? outcome.get()) ?? []).compactMap { try? $0.get() }
            var best: (address: RedisAddress, epoch: Int64)?
            var failures: [String] = []
            var refusal: SessionStoreError?
            for result in results {
                switch result {
                case .success(let (address, epoch)):
                    if best == nil || epoch > best!.epoch { best = (address, epoch) }
                case .failure(let error):
                    if case .misconfigured = error { refusal = error }
                    failures.append("\(error)")
                }
            }
            if let best {
                promise.succeed(best.address)
            } else if let refusal {
                promise.fail(refusal)
            } else {
                promise.fail(SessionStoreError.unavailable(
                    reason: "no sentinel named the primary of '\(sentinel.masterName)': \(failures.joined(separator: "; "))"))
            }
        }
    }

    /// The primary's address and config epoch in a `SENTINEL MASTER` reply.
    private static func primary(in reply: RESPValue, from sentinel: RedisAddress, name: String) -> Result<(RedisAddress, Int64), SessionStoreError> {
        if case .error(let message) = reply {
            let error = RedisConnector.handshakeError("SENTINEL", message, sentinel: true)
            if case .misconfigured = error { return .failure(error) }
            return .failure(.serverError(command: "SENTINEL MASTER", message: "\(sentinel): \(message)"))
        }
        guard case .array(let items?) = reply else {
            return .failure(.badReply(command: "SENTINEL MASTER", reason: "\(sentinel): \(reply.summary)"))
        }
        var fields: [String: String] = [:]
        var index = 0
        while index + 1 < items.count {
            if let key = items[index].text, let value = items[index + 1].text { fields[key] = value }
            index += 2
        }
        guard let host = fields["ip"], let port = fields["port"].flatMap({ Int($0) }) else {
            return .failure(.badReply(command: "SENTINEL MASTER", reason: "\(sentinel) gave no address for '\(name)'"))
        }
        if let flags = fields["flags"], flags.contains("o_down") {
            return .failure(.unavailable(reason: "\(sentinel) sees the primary of '\(name)' down and no new one yet"))
        }
        return .success((RedisAddress(host: host, port: port), Int64(fields["config-epoch"] ?? "0") ?? 0))
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
        state.withLock { s in
            s.primary = address
            s.switches += 1
        }
        logger.warning("Redis primary of '\(masterName)' switched from \(parts[1]):\(parts[2]) to \(address)")
        notify()
    }
}
