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
    /// `reusing` is the calling thread's own executor, taken when no other
    /// wait on this thread holds it (a fresh one otherwise): each wait then
    /// costs no executor, queue or condition variable of its own.
    static func wait<T: Sendable>(reusing spare: CallingThreadExecutor? = nil,
                                  _ work: @escaping @Sendable () async throws -> T) throws -> T {
        let executor = spare.flatMap { $0.claim() ? $0 : nil } ?? CallingThreadExecutor()
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
/// by then) goes to ``BridgeExecutor`` instead of being lost, or, once the
/// executor serves its thread's next wait, runs in that one.
///
/// One executor serves one wait at a time; a thread keeps one for all its
/// waits (``claim()``), and a wait that finds it taken (a wait inside a
/// wait) makes its own.
final class CallingThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let jobs = HandOffQueue<UnownedJob>()
    /// Touched only by the owning thread.
    private var inUse = false
    private var batch: [UnownedJob] = []

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if !jobs.push(job) { BridgeExecutor.shared.enqueue(job) }
    }

    /// Takes this executor for a wait on its thread; false while another
    /// wait holds it.
    func claim() -> Bool {
        guard !inUse else { return false }
        inUse = true
        jobs.reopen()
        return true
    }

    /// The task is done: ``runUntilFinished()`` returns once its queue is empty.
    func finish() {
        jobs.close()
    }

    /// Runs queued jobs on the calling thread until ``finish()``.
    func runUntilFinished() {
        var taken = batch
        batch = []
        while jobs.takeAll(into: &taken) {
            for job in taken { job.runSynchronously(on: asUnownedTaskExecutor()) }
            taken.removeAll(keepingCapacity: true)
        }
        batch = taken
        inUse = false
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
