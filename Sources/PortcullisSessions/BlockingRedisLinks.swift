import NIOCore
import PortcullisCore

/// The blocking connections of a ``RedisStore``: lent to one thread that
/// may block (`PortcullisCore.BlockingThread`, a JS worker running a
/// binding) for one command, then kept for the next. There are as many as
/// threads ever used them at once.
///
/// ``withConnection(_:)`` answers nil whenever a blocking connection is not
/// the right tool, and the store then uses its event-loop pool, which
/// already does everything else: on other threads, over TLS (the pool owns
/// the TLS client), while the sentinels are being asked for the primary,
/// for a second after a connection could not be opened, and after shutdown.
final class BlockingRedisLinks: Sendable {
    private struct State {
        var idle: [BlockingRedisConnection] = []
        /// Raised when the primary changes; older connections are closed.
        var generation = 0
        var retryAfter: NIODeadline?
        var isShutDown = false
    }

    private let connector: RedisConnector
    private let state = Locked(State())

    init(connector: RedisConnector) {
        self.connector = connector
        connector.locator.onChange { [weak self] in self?.primaryChanged() }
    }

    /// Runs `body` on a blocking connection to the primary, or returns nil
    /// (running nothing) when the caller should use the event-loop pool.
    func withConnection<T>(_ body: (BlockingRedisConnection) throws -> T) throws -> T? {
        guard servesCurrentThread else { return nil }
        guard let (connection, generation) = try lend() else { return nil }
        do {
            let result = try body(connection)
            giveBack(connection, generation)
            return result
        } catch {
            // A broken connection has closed itself; the pool's next
            // command finds out whether the primary is still there.
            if !connection.isBroken { giveBack(connection, generation) }
            throw error
        }
    }

    /// Whether ``withConnection(_:)`` lends this thread a connection at
    /// all: only a thread that may block, and never over TLS.
    var servesCurrentThread: Bool {
        BlockingThread.isCurrent && connector.configuration.tls == nil
    }

    /// Closes the idle connections; later calls answer nil.
    func shutdown() {
        let idle = state.withLock { s -> [BlockingRedisConnection] in
            s.isShutDown = true
            defer { s.idle = [] }
            return s.idle
        }
        for connection in idle { connection.close() }
    }

    private func lend() throws -> (BlockingRedisConnection, Int)? {
        enum Pick { case idle(BlockingRedisConnection, Int), open(Int), none }
        let pick = state.withLock { s -> Pick in
            guard !s.isShutDown else { return .none }
            if let connection = s.idle.popLast() { return .idle(connection, s.generation) }
            if let retryAfter = s.retryAfter, NIODeadline.now() < retryAfter { return .none }
            return .open(s.generation)
        }
        switch pick {
        case .idle(let connection, let generation):
            guard connection.isStale else { return (connection, generation) }
            connection.close()
            return try lend()
        case .none:
            return nil
        case .open(let generation):
            guard let address = connector.locator.knownPrimary, let connection = open(address) else { return nil }
            return (connection, generation)
        }
    }

    /// A connection with the pool's handshake done, or nil (and a pause
    /// before the next attempt) when that fails: the event-loop pool then
    /// reports the failure in its own words.
    private func open(_ address: RedisAddress) -> BlockingRedisConnection? {
        let configuration = connector.configuration
        do {
            let connection = try BlockingRedisConnection.connect(to: address, connectTimeout: configuration.connectTimeout,
                                                                 commandTimeout: configuration.commandTimeout)
            // Sent together; under Sentinel `ROLE` goes last, in the same round trip.
            let handshake = connector.primaryHandshake
            let checksRole = connector.locator.followsSentinels
            let replies = try connection.send(checksRole ? handshake + [["ROLE"]] : handshake)
            for (command, reply) in zip(handshake, replies) {
                if case .error(let message) = reply { throw RedisConnector.handshakeError(command.first ?? "?", message, sentinel: false) }
            }
            if checksRole, let role = replies.last { try RedisConnector.checkPrimaryRole(role, of: address) }
            return connection
        } catch {
            state.withLock { $0.retryAfter = NIODeadline.now() + .seconds(1) }
            return nil
        }
    }

    private func giveBack(_ connection: BlockingRedisConnection, _ generation: Int) {
        let keep = state.withLock { s -> Bool in
            guard !s.isShutDown, s.generation == generation else { return false }
            s.idle.append(connection)
            return true
        }
        if !keep { connection.close() }
    }

    private func primaryChanged() {
        let idle = state.withLock { s -> [BlockingRedisConnection] in
            s.generation += 1
            defer { s.idle = [] }
            return s.idle
        }
        for connection in idle { connection.close() }
    }
}
