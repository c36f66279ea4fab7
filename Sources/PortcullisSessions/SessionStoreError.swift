/// Every way a store operation can fail. Callers fail closed on all of
/// them: a request that needs the store gets a 503, a plugin's write is
/// reported as failed. Keys in messages are masked.
public enum SessionStoreError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The store cannot be reached (connection refused, reset, closed).
    case unavailable(reason: String)
    /// The store did not answer within the per-command timeout.
    case timeout(command: String, seconds: Double)
    /// The store answered something this client cannot use.
    case badReply(command: String, reason: String)
    /// The store answered with an error (e.g. Redis `-ERR ...`).
    case serverError(command: String, message: String)
    /// A value kept under this key is not what the operation needs
    /// (e.g. INCR on a non-integer).
    case wrongValue(key: String, reason: String)
    /// The store was shut down.
    case shutDown
    /// The store's settings cannot work: credentials Redis refuses, a TLS
    /// file that cannot be read, a certificate it does not trust. `setting`
    /// names the `tyk.conf` field to fix.
    case misconfigured(setting: String, reason: String)
    /// A session write reached fewer replicas than `storage.wait_replicas`
    /// asks for within the wait (Redis `WAIT`): it is not acknowledged.
    case notReplicated(reached: Int, required: Int, milliseconds: Int)

    /// A one-line explanation for logs and error responses.
    public var description: String {
        switch self {
        case .unavailable(let reason):
            return "session store unavailable: \(reason)"
        case .timeout(let command, let seconds):
            return "session store did not answer \(command) within \(seconds) s"
        case .badReply(let command, let reason):
            return "session store sent an unusable reply to \(command): \(reason)"
        case .serverError(let command, let message):
            return "session store refused \(command): \(message)"
        case .wrongValue(let key, let reason):
            return "value at '\(key)' cannot be used: \(reason)"
        case .shutDown:
            return "session store has been shut down"
        case .misconfigured(let setting, let reason):
            return "session store settings refused (\(setting)): \(reason)"
        case .notReplicated(let reached, let required, let milliseconds):
            return "session write reached \(reached) of \(required) replicas within \(milliseconds) ms (storage.wait_replicas); it is not acknowledged"
        }
    }
}
