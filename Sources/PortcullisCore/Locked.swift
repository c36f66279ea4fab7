#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value guarded by a lock, for the few places where state is shared
/// between tasks, event-loop callbacks and JS worker threads and an actor
/// hop would be wrong (NIO callbacks and JSC callbacks cannot `await`).
///
/// The lock is a plain `pthread_mutex_t`, not the standard library's
/// `Mutex`: on Linux that one is a priority-inheritance futex, whose
/// contended path goes through the kernel's rt-mutex and spins first.
/// The gateway runs more threads than cores (event loops, JS workers,
/// the upstream and clients on the same machine), so a holder is often
/// preempted, and spinning on it or handing it over through the rt-mutex
/// only burns the core its holder needs. A waiter here sleeps at once.
/// The mutex is allocated with the `Locked`, beside it: per-request state
/// (a request's session overlay, its binding faults) pays two allocations.
///
/// Its methods are inlinable so that each caller's use is specialized for
/// its value type: a generic call across modules copies the value and the
/// result through their type's witnesses, which cost more than the lock.
public final class Locked<Value>: @unchecked Sendable {
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline var stored: Value

    /// Wraps `value`.
    public init(_ value: Value) {
        self.stored = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value.
    @inlinable
    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&stored)
    }

    /// The whole value, read or replaced at once.
    @inlinable
    public var value: Value {
        get { withLock { $0 } }
        set { withLock { $0 = newValue } }
    }
}
