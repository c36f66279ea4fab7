import Dispatch
import Foundation

/// The `fetch()` calls of one plugin call: they run in parallel on the
/// binding executor while the worker thread waits for the next to finish
/// and hands its result to JavaScript. Anything still running when the
/// call ends is cancelled, so no request outlives its plugin call.
final class FetchTracker: @unchecked Sendable {
    /// One finished fetch: its id, and the response JSON or the failure text.
    struct Completion: Sendable {
        var id: Int
        var result: Result<String, FetchFailure>
    }

    /// Why a fetch was rejected, as the plugin's `Error.message` will read.
    struct FetchFailure: Error, Sendable {
        var message: String
    }

    private let lock = NSLock()
    private let signal = DispatchSemaphore(value: 0)
    private var nextID = 1
    private var running: [Int: Task<Void, Never>] = [:]
    private var finished: [Completion] = []

    /// Fetches started and not yet handed back to JavaScript.
    var outstanding: Int { lock.withLock { running.count + finished.count } }

    /// Starts `work`; its result is queued for ``next(within:)``.
    func start(_ work: @escaping @Sendable () async throws -> String) -> Int {
        lock.lock()
        let id = nextID
        nextID += 1
        let task = Task.detached(executorPreference: BridgeExecutor.shared) { [self] in
            let result: Result<String, FetchFailure>
            do {
                result = .success(try await work())
            } catch {
                result = .failure(FetchFailure(message: "\(error)"))
            }
            complete(Completion(id: id, result: result))
        }
        running[id] = task
        lock.unlock()
        return id
    }

    /// A fetch refused before it started (bad arguments): rejected at once.
    func reject(_ message: String) -> Int {
        let id = lock.withLock {
            let id = nextID
            nextID += 1
            finished.append(Completion(id: id, result: .failure(FetchFailure(message: message))))
            return id
        }
        signal.signal()
        return id
    }

    /// Blocks the worker thread until a fetch finishes or `seconds` pass.
    func next(within seconds: Double) -> Completion? {
        guard signal.wait(timeout: .now() + max(0, seconds)) == .success else { return nil }
        return lock.withLock { finished.isEmpty ? nil : finished.removeFirst() }
    }

    /// Cancels whatever is still running.
    func cancelAll() {
        let tasks = lock.withLock {
            let tasks = Array(running.values)
            running.removeAll()
            finished.removeAll()
            return tasks
        }
        for task in tasks { task.cancel() }
    }

    private func complete(_ completion: Completion) {
        let wanted = lock.withLock {
            guard running.removeValue(forKey: completion.id) != nil else { return false }
            finished.append(completion)
            return true
        }
        if wanted { signal.signal() }
    }
}
