import NIOCore
import NIOPosix
import PortcullisCore

/// A few command connections to the primary, opened on first use and
/// reopened after they drop, so a Redis restart or a Sentinel failover
/// needs no new store object. Commands are spread round-robin; each
/// connection pipelines.
final class RedisConnectionPool: Sendable {
    private enum Slot {
        case empty
        case connecting(EventLoopFuture<RedisConnection>)
        case ready(RedisConnection)
    }

    private struct State {
        var slots: [Slot]
        var next = 0
        var isShutDown = false
    }

    private let connector: RedisConnector
    private let group: EventLoopGroup
    private let state: Locked<State>

    init(connector: RedisConnector) {
        self.connector = connector
        self.group = connector.group
        self.state = Locked(State(slots: Array(repeating: .empty, count: connector.configuration.poolSize)))
        // A new primary: drop every connection to the old one.
        connector.locator.onChange { [weak self] in self?.closeAll() }
    }

    /// Closes the open connections; the next command opens new ones.
    private func closeAll() {
        let open = state.withLock { s -> [RedisConnection] in
            var connections: [RedisConnection] = []
            for index in s.slots.indices {
                if case .ready(let connection) = s.slots[index] {
                    connections.append(connection)
                    s.slots[index] = .empty
                }
            }
            return connections
        }
        for connection in open { connection.close() }
    }

    /// A connection that is open now, without waiting: one on the calling
    /// thread's event loop when there is one, so the command is written and
    /// its reply handled where the caller runs, with no hand-over between
    /// threads. nil when none is ready (then ``connection()`` opens one).
    func connectionNow() -> RedisConnection? {
        let current = MultiThreadedEventLoopGroup.currentEventLoop
        return state.withLock { s -> RedisConnection? in
            guard !s.isShutDown, !s.slots.isEmpty else { return nil }
            var fallback: RedisConnection?
            for offset in 0..<s.slots.count {
                let index = (s.next + offset) % s.slots.count
                guard case .ready(let connection) = s.slots[index], connection.isActive else { continue }
                if current == nil || connection.channel.eventLoop === current {
                    s.next = (index + 1) % s.slots.count
                    return connection
                }
                if fallback == nil { fallback = connection }
            }
            if fallback != nil { s.next = (s.next + 1) % s.slots.count }
            return fallback
        }
    }

    /// A connection ready for commands, opening one if needed.
    func connection() -> EventLoopFuture<RedisConnection> {
        enum Pick {
            case ready(RedisConnection)
            case wait(EventLoopFuture<RedisConnection>)
            case opened(Int, EventLoopFuture<RedisConnection>)
            case shutDown
        }
        let pick = state.withLock { s -> Pick in
            guard !s.isShutDown else { return .shutDown }
            let index = s.next % s.slots.count
            s.next = (s.next + 1) % s.slots.count
            switch s.slots[index] {
            case .ready(let connection) where connection.isActive:
                return .ready(connection)
            case .connecting(let future):
                return .wait(future)
            default:
                let future = RedisConnection.openPrimary(connector)
                s.slots[index] = .connecting(future)
                return .opened(index, future)
            }
        }
        switch pick {
        case .ready(let connection):
            return connection.channel.eventLoop.makeSucceededFuture(connection)
        case .wait(let future):
            return future
        case .shutDown:
            return group.next().makeFailedFuture(SessionStoreError.shutDown)
        case .opened(let index, let future):
            watch(future, slot: index)
            return future
        }
    }

    private func watch(_ future: EventLoopFuture<RedisConnection>, slot index: Int) {
        future.whenComplete { [state] result in
            let closeNow = state.withLock { s -> RedisConnection? in
                switch result {
                case .success(let connection):
                    if s.isShutDown { return connection }
                    s.slots[index] = .ready(connection)
                case .failure:
                    if case .connecting(let pending) = s.slots[index], pending === future { s.slots[index] = .empty }
                }
                return nil
            }
            closeNow?.close()
        }
        future.whenSuccess { [state] connection in
            connection.channel.closeFuture.whenComplete { _ in
                state.withLock { s in
                    if case .ready(let current) = s.slots[index], current === connection { s.slots[index] = .empty }
                }
            }
        }
    }

    /// Closes every connection; later calls fail with ``SessionStoreError/shutDown``.
    func shutdown() {
        let open = state.withLock { s -> [RedisConnection] in
            s.isShutDown = true
            let connections = s.slots.compactMap { slot -> RedisConnection? in
                if case .ready(let connection) = slot { return connection }
                return nil
            }
            s.slots = s.slots.map { _ in .empty }
            return connections
        }
        for connection in open { connection.close() }
    }
}
