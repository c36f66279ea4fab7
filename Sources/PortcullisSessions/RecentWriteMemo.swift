import PortcullisCore

/// The session texts this node wrote last for each key, with their
/// `expires`. The record a write replaces is most often one of them (a
/// plugin that renews one key on every request, several such writes in
/// flight at once), and the renewal count then reads its `expires` from
/// here instead of decoding the record the store handed back.
///
/// A text is noted before it is sent, so a write that is still waiting
/// for its reply is known to the one that replaces it. Only a record
/// whose text equals a noted one byte for byte is answered. Bounded: a
/// few texts per key, and when full it starts again empty.
final class RecentWriteMemo: Sendable {
    private struct Written {
        var body: String
        var expires: Int64
    }

    private let entries = Locked<[String: [Written]]>([:])
    private let capacity: Int

    /// Texts kept per key, the newest last.
    static let perKey = 4

    init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    /// `body` (a session's JSON text with `expires`) is about to be written under `storageKey`.
    func note(_ storageKey: String, body: String, expires: Int64) {
        entries.withLock { entries in
            if entries.count >= capacity && entries[storageKey] == nil { entries.removeAll(keepingCapacity: true) }
            var list = entries.removeValue(forKey: storageKey) ?? []
            if list.count >= Self.perKey { list.removeFirst() }
            list.append(Written(body: body, expires: expires))
            entries[storageKey] = list
        }
    }

    /// `expires` of `body` if it is one of the texts noted for `storageKey`.
    func expires(_ storageKey: String, body: String) -> Int64? {
        entries.withLock { entries in entries[storageKey]?.last { $0.body == body }?.expires }
    }
}
