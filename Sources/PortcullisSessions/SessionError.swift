/// Why the session layer refused or failed an operation. Keys appear
/// masked (`****56bc`).
public enum SessionError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The key is empty.
    case emptyKey
    /// The session JSON is not a valid session; nothing was written.
    case invalidSession(key: String, reason: SessionDecodingError)
    /// The stored record cannot be decoded.
    case corruptRecord(key: String, reason: SessionDecodingError)
    /// `access_rights` is empty and `allow_master_keys` is off; nothing was written.
    case masterKeysNotAllowed(key: String)
    /// The store failed; the operation did not happen (or, for a read, has
    /// no answer). Requests fail closed with 503.
    case storeFailed(key: String, operation: String, cause: SessionStoreError)
    /// The write is stored, but not every node confirmed dropping its cached
    /// copy in time, so it is not yet guaranteed visible everywhere.
    case invalidationNotAcknowledged(key: String, acknowledged: Int, expected: Int)
    /// A read-modify-write kept losing to concurrent writers.
    case tooManyConflicts(key: String, attempts: Int)
    /// The key does not exist.
    case notFound(key: String)

    /// A one-line explanation for logs and error responses.
    public var description: String {
        switch self {
        case .emptyKey:
            return "a session key must not be empty"
        case .invalidSession(let key, let reason):
            return "session for key \(key) not stored: \(reason)"
        case .corruptRecord(let key, let reason):
            return "stored session for key \(key) cannot be read: \(reason)"
        case .masterKeysNotAllowed(let key):
            return "Master keys not allowed: session for key \(key) has no access_rights (set allow_master_keys to store it)"
        case .storeFailed(let key, let operation, let cause):
            return "\(operation) for key \(key) failed: \(cause)"
        case .invalidationNotAcknowledged(let key, let acknowledged, let expected):
            return "session for key \(key) stored, but only \(acknowledged) of \(expected) gateway nodes confirmed the cache invalidation"
        case .tooManyConflicts(let key, let attempts):
            return "update of key \(key) gave up after \(attempts) concurrent changes"
        case .notFound(let key):
            return "key \(key) not found"
        }
    }
}
