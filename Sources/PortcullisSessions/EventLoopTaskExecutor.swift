import NIOCore

/// Runs tasks on one NIO event loop: the gateway runs a request's waiting
/// stages on the loop its connection lives on, so a request that waits for
/// a JS hook costs one hand-over to the worker and one back, not a tour of
/// the cooperative pool as well; the session layer sends invalidation
/// acknowledgements from the loop the invalidation arrived on, so a busy
/// cooperative pool cannot delay them.
///
/// Only awaiting code runs here; JavaScript stays on its worker threads and
/// nothing that blocks is awaited on this executor.
public final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    /// The loop jobs run on.
    public let eventLoop: any EventLoop

    /// An executor for `eventLoop`.
    public init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        eventLoop.execute { [self] in
            unowned.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
