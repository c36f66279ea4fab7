import Dispatch

/// Runs async Swift work from a JS worker thread and blocks that thread (and
/// only it) until the work finishes. Bindings are synchronous from JS, as in
/// Tyk; worker threads are dedicated, so blocking one never stalls an event
/// loop.
///
/// The work runs on ``BridgeExecutor`` rather than the shared cooperative
/// pool, so a binding still completes when every cooperative thread is busy
/// or blocked by someone else's code.
enum BlockingBridge {
    private final class Outcome<T: Sendable>: @unchecked Sendable {
        var result: Result<T, any Error>?
    }

    /// Runs `work` on `executor` (the host's choice: the gateway's event
    /// loops, where its store replies arrive) or on ``BridgeExecutor``.
    static func wait<T: Sendable>(on executor: (any TaskExecutor)? = nil,
                                  _ work: @escaping @Sendable () async throws -> T) throws -> T {
        let semaphore = DispatchSemaphore(value: 0)
        let outcome = Outcome<T>()
        Task.detached(executorPreference: executor ?? BridgeExecutor.shared) {
            do {
                outcome.result = .success(try await work())
            } catch {
                outcome.result = .failure(error)
            }
            semaphore.signal()
        }
        semaphore.wait()
        guard let result = outcome.result else {
            throw NativeFunctionError("internal error: binding finished without a result")
        }
        return try result.get()
    }
}

/// A task executor on its own dispatch queue, independent of Swift's
/// cooperative thread pool.
final class BridgeExecutor: TaskExecutor {
    static let shared = BridgeExecutor()

    private let queue = DispatchQueue(label: "portcullis.js-bindings", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        queue.async {
            unowned.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
