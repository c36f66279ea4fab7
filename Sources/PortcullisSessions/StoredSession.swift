/// A session record as the store holds it: the session JSON plus the
/// record's version.
///
/// **Versions.** Every mutation of a session record (write or delete) takes
/// a fresh number from one store-wide counter (`portcullis-session-version`
/// in Redis). Versions therefore grow per key *and* across a delete and
/// re-create, so a write-back or cache fill computed from an older read can
/// always be recognised as older. The version is stored inside the record
/// as its first member, `{"portcullis_version":N,...}`: Tyk reads the record
/// as usual (an unknown field), and the Redis compare-and-set script can
/// read it with an anchored pattern without parsing the JSON. A record
/// written by Tyk itself has no such member and reads as version 0.
public struct StoredSession: Sendable, Equatable {
    /// The reserved member that carries the version.
    public static let versionField = "portcullis_version"

    /// The session JSON (without the version member).
    public var body: String
    /// The record's version; 0 for records written by something else.
    public var version: UInt64
    /// Remaining physical lifetime when read, in seconds; nil when the
    /// record has no TTL. Caches never keep a session longer than this.
    public var ttlSeconds: Double?

    /// Creates a record.
    public init(body: String, version: UInt64, ttlSeconds: Double? = nil) {
        self.body = body
        self.version = version
        self.ttlSeconds = ttlSeconds
    }

    /// The text stored for `body` at `version`: the version becomes the
    /// first member of the object.
    static func encode(body: String, version: UInt64) -> String {
        "{\"\(versionField)\":\(version)" + tail(of: body)
    }

    /// What follows the version member: `}` for an empty object, else `,`
    /// and the body's members. The Redis script prepends the version it
    /// allocates to this tail.
    static func tail(of body: String) -> String {
        let trimmed = body.drop(while: { $0.isWhitespace })
        guard trimmed.first == "{" else { return "}" }
        let rest = trimmed.dropFirst().drop(while: { $0.isWhitespace })
        if rest.first == "}" { return "}" }
        return "," + rest
    }

    /// Splits stored text into body and version (0 when there is none).
    /// Works on the UTF-8 bytes: every store read and write reply passes
    /// through here, and the version is ASCII digits at a fixed place.
    static func decode(stored text: String) -> StoredSession {
        let split = text.utf8.withContiguousStorageIfAvailable { bytes -> StoredSession? in
            let prefix = versionPrefix
            guard bytes.count > prefix.count, bytes.starts(with: prefix) else { return nil }
            var index = prefix.count
            var version: UInt64 = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                let (times10, overflowed) = version.multipliedReportingOverflow(by: 10)
                let (sum, carried) = times10.addingReportingOverflow(UInt64(bytes[index] - UInt8(ascii: "0")))
                guard !overflowed, !carried else { return nil }
                version = sum
                index += 1
            }
            guard index > prefix.count else { return nil }
            if index < bytes.count, bytes[index] == UInt8(ascii: ",") { index += 1 }
            let rest = UnsafeBufferPointer(rebasing: bytes[index...])
            let body = String(unsafeUninitializedCapacity: rest.count + 1) { out in
                out[0] = UInt8(ascii: "{")
                _ = UnsafeMutableBufferPointer(rebasing: out[1...]).initialize(from: rest)
                return rest.count + 1
            }
            return StoredSession(body: body, version: version)
        }
        if let split { return split ?? StoredSession(body: text, version: 0) }
        // A bridged string with no contiguous UTF-8: copy it once.
        var copy = text
        copy.makeContiguousUTF8()
        return decode(stored: copy)
    }

    /// `{"portcullis_version":` as bytes.
    private static let versionPrefix = Array("{\"\(versionField)\":".utf8)
}

/// When a session write may replace what is stored.
public enum SessionWriteCondition: Sendable, Equatable {
    /// Always (plugin and admin writes: the newest intent wins).
    case always
    /// Only if the stored record still has this version (0 = written by
    /// something else) — a write-back computed from that read. A missing
    /// record never matches, so a deleted key is not brought back.
    case ifVersion(UInt64)
}

/// The result of a session write.
public enum SessionWriteOutcome: Sendable, Equatable {
    /// Stored at this new version. `replaced` is the record it replaced
    /// (nil when the key was new), so callers can tell a key created from
    /// one renewed without a second read.
    case written(version: UInt64, replaced: StoredSession?)
    /// Not stored: the record changed (or vanished) since the read it was
    /// based on. `current` is the stored version, nil when missing.
    case conflict(current: UInt64?)
}

/// The result of a session delete.
public struct SessionDeleteOutcome: Sendable, Equatable {
    /// Whether a record existed.
    public var existed: Bool
    /// The version number consumed by the delete; caches use it to refuse
    /// fills read before the delete.
    public var version: UInt64

    /// Creates an outcome.
    public init(existed: Bool, version: UInt64) {
        self.existed = existed
        self.version = version
    }
}
