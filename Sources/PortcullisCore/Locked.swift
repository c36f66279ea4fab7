import Synchronization

/// A value guarded by a lock, for the few places where state is shared
/// between tasks, event-loop callbacks and JS worker threads and an actor
/// hop would be wrong (NIO callbacks and JSC callbacks cannot `await`).
///
/// The lock is a `Mutex` stored inline, so a `Locked` is one allocation;
/// per-request state (a request's session overlay, its binding faults)
/// uses it on every request.
public final class Locked<Value>: @unchecked Sendable {
    private let mutex: Mutex<Void> = Mutex(())
    private var stored: Value

    /// Wraps `value`.
    public init(_ value: Value) {
        self.stored = value
    }

    /// Runs `body` with exclusive access to the value.
    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        try mutex.withLock { _ in try body(&stored) }
    }

    /// The whole value, read or replaced at once.
    public var value: Value {
        get { withLock { $0 } }
        set { withLock { $0 = newValue } }
    }
}
