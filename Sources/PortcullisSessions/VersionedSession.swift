/// A session together with the version of the record it was read from or
/// written as (see ``StoredSession``). Write-backs carry the version so
/// they can only replace that exact record.
public struct VersionedSession: Sendable, Equatable {
    /// The session.
    public var session: SessionState
    /// The record version.
    public var version: UInt64

    /// Pairs a session with its version.
    public init(session: SessionState, version: UInt64) {
        self.session = session
        self.version = version
    }
}

/// Where an auth lookup found the session it accepted.
public enum SessionSource: String, Sendable, Equatable {
    /// Written earlier in this request (``SessionOverlay``).
    case overlay
    /// The node-local cache.
    case cache
    /// Read from the store just now.
    case store
}

/// The auth stage's answer for a key. Every rejection (`expired`,
/// `inactive`, `notFound`) has been confirmed by reading the store; only
/// `valid` may come from the overlay or the cache.
public enum SessionLookup: Sendable, Equatable {
    /// Usable; `source` says where it came from.
    case valid(VersionedSession, source: SessionSource)
    /// Past `expires`: 401 "Key has expired, please renew".
    case expired(VersionedSession)
    /// `is_inactive`: 403 "Key is inactive, please renew".
    case inactive(VersionedSession)
    /// No record: 403 "Access to this API has been disallowed".
    case notFound
}

/// The result of a bookkeeping write-back.
public enum WriteBackResult: Sendable, Equatable {
    /// Stored at this version.
    case written(version: UInt64)
    /// Not stored: the record changed or was deleted since it was read, so
    /// the newer state stays (no lost renewal, no resurrection).
    case superseded
    /// Queued (`use_async_session_write`); see ``SessionManager/flushPendingWrites()``.
    case deferred
}
