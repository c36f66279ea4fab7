import NIOCore
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

    /// The executor of `loop`, when it is one of the group's.
    func executor(for loop: any EventLoop) -> EventLoopTaskExecutor? {
        executors[ObjectIdentifier(loop)]
    }
}
