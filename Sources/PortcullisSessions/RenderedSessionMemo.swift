import PortcullisCore

/// A session as `TykGetKeyData` hands it to a plugin: decoded, and as the
/// JSON text Tyk's shape gives it.
public struct RenderedSession: Sendable {
    /// The decoded session and its record version.
    public let found: VersionedSession
    /// Its JSON text, every field present.
    public let json: String
}

/// The last rendering of each key's stored record. A plugin that reads the
/// same unchanged session on every request (the forum renewal hook) then
/// pays a string comparison instead of a JSON decode and encode.
///
/// An entry is used only when both the record's version and its stored
/// text are the ones it was made from, so it can never serve a session the
/// store no longer holds. Bounded: when full it starts again empty.
final class RenderedSessionMemo: Sendable {
    private struct Entry {
        var version: UInt64
        var body: String
        var rendered: RenderedSession
    }

    private let entries = Locked<[String: Entry]>([:])
    private let capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    /// The rendering of `record` if it is the one last rendered for `key`.
    func known(_ key: String, _ record: StoredSession) -> RenderedSession? {
        guard let entry = entries.withLock({ $0[key] }), entry.version == record.version, entry.body == record.body else { return nil }
        return entry.rendered
    }

    /// The rendering of `record`, made by `render` when it is not known yet.
    func rendered(_ key: String, _ record: StoredSession, render: () throws -> VersionedSession) rethrows -> RenderedSession {
        if let entry = entries.withLock({ $0[key] }), entry.version == record.version, entry.body == record.body {
            return entry.rendered
        }
        let decoded = try render()
        let rendered = RenderedSession(found: decoded, json: decoded.session.jsonText())
        entries.withLock { entries in
            if entries.count >= capacity && entries[key] == nil { entries.removeAll(keepingCapacity: true) }
            entries[key] = Entry(version: record.version, body: record.body, rendered: rendered)
        }
        return rendered
    }
}
