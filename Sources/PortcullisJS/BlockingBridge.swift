import Foundation

/// Runs async Swift work from a JS worker thread and blocks that thread (and
/// only it) until the work finishes. Bindings are synchronous from JS, as in
/// Tyk; worker threads are dedicated, so blocking one never stalls an event
/// loop or the cooperative pool.
enum BlockingBridge {
    private final class Outcome<T: Sendable>: @unchecked Sendable {
        var result: Result<T, any Error>?
    }

    static func wait<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let semaphore = DispatchSemaphore(value: 0)
        let outcome = Outcome<T>()
        Task.detached {
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
