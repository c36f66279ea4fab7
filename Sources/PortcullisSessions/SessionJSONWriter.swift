import PortcullisCore

/// Writes one JSON object member by member, in the order the caller gives
/// (the caller gives the names in byte order, so the text matches what
/// ``JSONValue/write(into:)`` makes of the same object). Names are written
/// as given: they are fixed field names that need no escaping.
struct SessionJSONWriter: ~Copyable {
    private var out: JSONOutput
    private var first = true

    /// A writer with room for a typical session.
    init() {
        out = JSONOutput(capacity: 1536)
    }

    /// A writer that continues `existing` output.
    init(continuing existing: consuming JSONOutput) {
        out = existing
    }

    mutating func open() {
        out.byte(UInt8(ascii: "{"))
        first = true
    }

    private mutating func name(_ name: StaticString) {
        out.literal(first ? "\"" : ",\"")
        first = false
        out.literal(name)
        out.literal("\":")
    }

    mutating func field(_ key: StaticString, _ value: Int64) {
        name(key)
        out.integer(value)
    }

    mutating func field(_ key: StaticString, _ value: String) {
        name(key)
        out.string(value)
    }

    mutating func field(_ key: StaticString, _ value: Bool) {
        name(key)
        out.literal(value ? "true" : "false")
    }

    mutating func field(_ key: StaticString, _ value: [String]) {
        name(key)
        out.strings(value)
    }

    mutating func field(_ key: StaticString, _ value: JSONValue) {
        name(key)
        value.write(into: &out)
    }

    /// A member whose value the caller writes itself.
    mutating func field(_ key: StaticString, _ write: (inout JSONOutput) -> Void) {
        name(key)
        write(&out)
    }

    /// Closes the object and returns the text.
    consuming func close() -> String {
        closeOutput().text()
    }

    /// Closes the object and returns the output, for the caller to go on.
    consuming func closeOutput() -> JSONOutput {
        out.byte(UInt8(ascii: "}"))
        return out
    }
}
