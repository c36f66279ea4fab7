import NIOCore
import NIOPosix
import PortcullisCore
import PortcullisSessions

/// One ``EventLoopTaskExecutor`` per loop of a group, made once.
final class EventLoopTaskExecutors: Sendable {
    private let executors: [ObjectIdentifier: EventLoopTaskExecutor]
    private let ordered: [EventLoopTaskExecutor]
    private let turn = Locked(0)

    init(group: any EventLoopGroup) {
        var executors: [ObjectIdentifier: EventLoopTaskExecutor] = [:]
        var ordered: [EventLoopTaskExecutor] = []
        for loop in group.makeIterator() {
            let executor = EventLoopTaskExecutor(eventLoop: loop)
            executors[ObjectIdentifier(loop)] = executor
            ordered.append(executor)
        }
        self.executors = executors
        self.ordered = ordered
    }

    /// The loops' executors in turn.
    func next() -> EventLoopTaskExecutor? {
        guard !ordered.isEmpty else { return nil }
        let index = turn.withLock { value -> Int in
            value = (value &+ 1) & Int.max
            return value
        }
        return ordered[index % ordered.count]
    }

    /// The executor of the loop this thread runs, when it is one of the
    /// group's; otherwise the next in turn. A plugin host made while its
    /// request is on a loop runs its store calls there, where that
    /// request's data is already in the core's cache.
    func currentOrNext() -> EventLoopTaskExecutor? {
        if let loop = MultiThreadedEventLoopGroup.currentEventLoop, let executor = executors[ObjectIdentifier(loop)] { return executor }
        return next()
    }

    /// The executor of `loop`, when it is one of the group's.
    func executor(for loop: any EventLoop) -> EventLoopTaskExecutor? {
        executors[ObjectIdentifier(loop)]
    }
}
