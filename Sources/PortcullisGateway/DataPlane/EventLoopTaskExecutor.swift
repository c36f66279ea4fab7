import NIOCore
import PortcullisCore

/// Runs a request's waiting stages on the event loop its connection lives
/// on: the task starts there and every resumption (a JS worker's answer,
/// a store reply) comes back there, so a request that waits for a JS hook
/// costs one hand-over to the worker and one back, not a tour of the
/// cooperative pool as well.
///
/// Only awaiting code runs here; JavaScript stays on its worker threads and
/// nothing that blocks is awaited on this executor.
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        eventLoop.execute { [self] in
            unowned.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

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
