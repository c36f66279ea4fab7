import Foundation
import PortcullisCore

/// The sessions written during one request (by its plugins), read first by
/// that request's auth stage: read-your-writes without waiting for any
/// cache. Safe to share between the request's tasks. Entries are keyed by
/// stored name, so a key and its hashed form are the same entry.
public final class SessionOverlay: Sendable {
    private let entries = Locked<[String: VersionedSession]>([:])

    /// Creates an empty overlay (one per request).
    public init() {}

    /// Records a write; an older version never replaces a newer one.
    func record(storageKey: String, _ entry: VersionedSession) {
        entries.withLock { entries in
            if let existing = entries[storageKey], existing.version > entry.version { return }
            entries[storageKey] = entry
        }
    }

    /// Forgets a key (it was deleted during the request).
    func remove(storageKey: String) {
        _ = entries.withLock { $0.removeValue(forKey: storageKey) }
    }

    /// The session written for `storageKey` during this request, if any.
    func entry(storageKey: String) -> VersionedSession? {
        entries.value[storageKey]
    }

    /// How many keys were written during this request.
    public var count: Int {
        entries.value.count
    }
}
