import PortcullisCore

/// Writes one JSON object member by member, in the order the caller gives
/// (the caller gives the names in byte order, so the text matches what
/// ``JSONValue/write(into:)`` makes of the same object). Names are written
/// as given: they are fixed field names that need no escaping.
struct SessionJSONWriter {
    private var bytes: [UInt8]
    private var first = true

    /// A writer with room for a typical session.
    init() {
        bytes = []
        bytes.reserveCapacity(1024)
    }

    /// A writer that continues after `existing` bytes.
    init(appendingTo existing: [UInt8]) {
        bytes = existing
    }

    mutating func open() {
        bytes.append(UInt8(ascii: "{"))
        first = true
    }

    private mutating func name(_ name: StaticString) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    mutating func field(_ key: StaticString, _ value: Int64) {
        name(key)
        JSONValue.writeInteger(value, into: &bytes)
    }

    mutating func field(_ key: StaticString, _ value: String) {
        name(key)
        JSONValue.writeString(value, into: &bytes)
    }

    mutating func field(_ key: StaticString, _ value: Bool) {
        name(key)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    mutating func field(_ key: StaticString, _ value: [String]) {
        name(key)
        bytes.append(UInt8(ascii: "["))
        for (offset, item) in value.enumerated() {
            if offset > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONValue.writeString(item, into: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func field(_ key: StaticString, _ value: JSONValue) {
        name(key)
        value.write(into: &bytes)
    }

    /// A member whose value the caller writes itself.
    mutating func field(_ key: StaticString, _ write: (inout [UInt8]) -> Void) {
        name(key)
        write(&bytes)
    }

    /// Closes the object and returns the text.
    mutating func close() -> String {
        String(decoding: closeBytes(), as: UTF8.self)
    }

    /// Closes the object and returns the bytes written so far.
    mutating func closeBytes() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }
}
