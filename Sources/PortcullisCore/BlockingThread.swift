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
        pthread_key_create(&key, nil)
        return key
    }()

    /// Whether the calling thread was declared as one that may block.
    public static var isCurrent: Bool {
        pthread_getspecific(key) != nil
    }

    /// Declares the calling thread as one that may block, for its lifetime.
    /// Call it only from a thread that no event loop or executor shares.
    public static func declareCurrent() {
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
    }
}
