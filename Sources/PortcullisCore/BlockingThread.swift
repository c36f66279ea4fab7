#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Marks the threads that are allowed to block on I/O: the JS workers,
/// which exist to run synchronous plugin bindings. Code that can do its
/// I/O either way (the Redis store) blocks on such a thread instead of
/// handing the work to an event loop and waiting for it, which saves two
/// hand-overs between threads per call. Every other thread — event loops,
/// Swift's cooperative pool — is unmarked and must never block.
public enum BlockingThread {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        // The thread's `WaitingWork` is released when the thread ends.
        pthread_key_create(&key) { raw in
            guard let raw else { return }
            Unmanaged<AnyObject>.fromOpaque(raw).release()
        }
        return key
    }()

    /// Whether the calling thread was declared as one that may block.
    public static var isCurrent: Bool {
        pthread_getspecific(key) != nil
    }

    /// Declares the calling thread as one that may block, for its lifetime.
    /// Call it only from a thread that no event loop or executor shares.
    ///
    /// `whileWaiting`, when given, is offered the time the thread would
    /// otherwise spend asleep waiting for an answer that has not arrived
    /// yet (``offerWaitingTime()``): a JS worker runs another queued call
    /// there instead of going to sleep and being woken again.
    public static func declareCurrent(whileWaiting: (() -> Void)? = nil) {
        let box = WaitingWork(whileWaiting)
        pthread_setspecific(key, Unmanaged.passRetained(box).toOpaque())
    }

    /// Whether the calling thread has work for ``offerWaitingTime()``:
    /// I/O that would look for an early answer only to offer the wait
    /// need not look when there is none.
    public static var hasWaitingWork: Bool {
        guard let raw = pthread_getspecific(key) else { return false }
        return Unmanaged<WaitingWork>.fromOpaque(raw).takeUnretainedValue().run != nil
    }

    /// Called by blocking I/O just before it would sleep for an answer:
    /// runs the thread's `whileWaiting` work, if it has any. The caller
    /// then reads what arrived meanwhile, or sleeps as before.
    public static func offerWaitingTime() {
        guard let raw = pthread_getspecific(key) else { return }
        Unmanaged<WaitingWork>.fromOpaque(raw).takeUnretainedValue().run?()
    }

    /// What a declared thread does while it waits; kept for the thread's life.
    private final class WaitingWork {
        let run: (() -> Void)?
        init(_ run: (() -> Void)?) { self.run = run }
    }
}
