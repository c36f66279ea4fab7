import Foundation

/// Runs async Swift work from a JS worker thread and blocks that thread (and
/// only it) until the work finishes. Bindings are synchronous from JS, as in
/// Tyk; worker threads are dedicated, so blocking one never stalls an event
/// loop.
///
/// The work runs on the blocked thread itself (``CallingThreadExecutor``):
/// what completes at once — a memory-store write, a cache hit, a Redis
/// command the store sends and reads on this thread
/// (`PortcullisCore.BlockingThread`) — costs no hand-over to another
/// thread and back. Work that does suspend is resumed here by whoever
/// completes it, and nothing else can run on the thread meanwhile.
enum BlockingBridge {
    private final class Outcome<T: Sendable>: @unchecked Sendable {
        var result: Result<T, any Error>?
    }

    /// Runs `work` to completion on the calling thread and returns its result.
    static func wait<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let executor = CallingThreadExecutor()
        let outcome = Outcome<T>()
        Task.detached(executorPreference: executor) {
            do {
                outcome.result = .success(try await work())
            } catch {
                outcome.result = .failure(error)
            }
            executor.finish()
        }
        executor.runUntilFinished()
        guard let result = outcome.result else {
            throw NativeFunctionError("internal error: binding finished without a result")
        }
        return try result.get()
    }
}

/// A task executor whose jobs run on the one thread blocked in
/// ``runUntilFinished()``; the thread sleeps only while no job is queued.
/// A job that arrives after ``finish()`` (none should: the task has ended
/// by then) goes to ``BridgeExecutor`` instead of being lost.
final class CallingThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let jobs = HandOffQueue<UnownedJob>()

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if !jobs.push(job) { BridgeExecutor.shared.enqueue(job) }
    }

    /// The task is done: ``runUntilFinished()`` returns once its queue is empty.
    func finish() {
        jobs.close()
    }

    /// Runs queued jobs on the calling thread until ``finish()``.
    func runUntilFinished() {
        var batch: [UnownedJob] = []
        while jobs.takeAll(into: &batch) {
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
            batch.removeAll(keepingCapacity: true)
        }
    }
}

/// A task executor on its own dispatch queue, independent of Swift's
/// cooperative thread pool.
final class BridgeExecutor: TaskExecutor {
    static let shared = BridgeExecutor()

    private let queue = DispatchQueue(label: "portcullis.js-bindings", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        enqueue(UnownedJob(job))
    }

    func enqueue(_ job: UnownedJob) {
        queue.async {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
