import NIOCore
import NIOPosix
import PortcullisCore
import PortcullisSessions

/// One ``EventLoopTaskExecutor`` per loop of a group, made once.
final class EventLoopTaskExecutors: Sendable {
    private let executors: [ObjectIdentifier: EventLoopTaskExecutor]

    init(group: any EventLoopGroup) {
        var executors: [ObjectIdentifier: EventLoopTaskExecutor] = [:]
        for loop in group.makeIterator() {
            let executor = EventLoopTaskExecutor(eventLoop: loop)
            executors[ObjectIdentifier(loop)] = executor
        }
        self.executors = executors
    }

    /// The executor of `loop`, when it is one of the group's.
    func executor(for loop: any EventLoop) -> EventLoopTaskExecutor? {
        executors[ObjectIdentifier(loop)]
    }
}
