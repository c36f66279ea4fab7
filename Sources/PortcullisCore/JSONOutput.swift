import Foundation

/// The bytes of a JSON text being written, kept in one buffer that grows
/// by doubling and becomes a `String` once, at the end.
///
/// Every JSON writer in the gateway (sessions, the objects handed to
/// plugins, ``JSONValue``) writes through this one type, so strings are
/// escaped the same way everywhere. It exists for speed: appending to a
/// `[UInt8]` checks the array's uniqueness and capacity on every byte,
/// which was half of the instructions spent rendering a session.
public struct JSONOutput: ~Copyable {
    @usableFromInline var base: UnsafeMutablePointer<UInt8>
    @usableFromInline var count = 0
    @usableFromInline var capacity: Int

    /// An empty text with room for `capacity` bytes before it grows.
    public init(capacity: Int = 256) {
        self.capacity = max(16, capacity)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// Makes room for `extra` more bytes.
    @inlinable @inline(__always)
    mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(toHold: count + extra) }
    }

    @usableFromInline
    mutating func grow(toHold needed: Int) {
        var larger = capacity * 2
        while larger < needed { larger *= 2 }
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: larger)
        moved.update(from: base, count: count)
        base.deallocate()
        base = moved
        capacity = larger
    }

    /// One byte, as given.
    @inlinable @inline(__always)
    public mutating func byte(_ value: UInt8) {
        reserve(1)
        base[count] = value
        count += 1
    }

    /// Bytes copied as they are. A short run (a field name, punctuation)
    /// is copied byte by byte: calling `memcpy` for it cost more than the copy.
    @inlinable @inline(__always)
    public mutating func bytes(_ start: UnsafePointer<UInt8>, count length: Int) {
        reserve(length)
        let destination = base + count
        if length <= 32 {
            // Eight bytes at a time, then the rest one by one.
            var index = 0
            while index + 8 <= length {
                UnsafeMutableRawPointer(destination + index).storeBytes(
                    of: UnsafeRawPointer(start + index).loadUnaligned(as: UInt64.self), as: UInt64.self)
                index += 8
            }
            while index < length {
                destination[index] = start[index]
                index += 1
            }
        } else {
            destination.update(from: start, count: length)
        }
        count += length
    }

    /// A fixed piece of JSON (punctuation, a field name with its quotes).
    @inlinable @inline(__always)
    public mutating func literal(_ fragment: StaticString) {
        if fragment.hasPointerRepresentation {
            bytes(fragment.utf8Start, count: fragment.utf8CodeUnitCount)
        } else {
            fragment.withUTF8Buffer { scalar in
                for value in scalar { byte(value) }
            }
        }
    }

    /// Text that is already JSON (a number, a rendered value), copied as it is.
    public mutating func raw(_ text: String) {
        Self.withUTF8(of: text) { source in
            if let start = source.baseAddress { bytes(start, count: source.count) }
        }
    }

    /// Decimal digits, without a `String` per number.
    public mutating func integer(_ number: Int64) {
        reserve(20)
        if number == 0 {
            base[count] = UInt8(ascii: "0")
            count += 1
            return
        }
        if number < 0 {
            base[count] = UInt8(ascii: "-")
            count += 1
        }
        var magnitude = number.magnitude
        var digits = 0
        var probe = magnitude
        while probe > 0 {
            digits += 1
            probe /= 10
        }
        var position = count + digits - 1
        while magnitude > 0 {
            base[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
            position -= 1
        }
        count += digits
    }

    /// `text` as a JSON string literal, quotes included.
    public mutating func string(_ text: String) {
        Self.withUTF8(of: text) { quoted($0) }
    }

    /// The UTF-8 bytes of `text`: in place for a native string, small
    /// ones included, and from a contiguous copy only for a bridged one.
    private static func withUTF8(of text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        if text.utf8.withContiguousStorageIfAvailable(body) != nil { return }
        var copy = text
        copy.withUTF8(body)
    }

    /// `list` as a JSON array of strings.
    public mutating func strings(_ list: [String]) {
        byte(UInt8(ascii: "["))
        for (offset, item) in list.enumerated() {
            if offset > 0 { byte(UInt8(ascii: ",")) }
            string(item)
        }
        byte(UInt8(ascii: "]"))
    }

    /// `map` as a JSON object, members in byte order of their names (as Go
    /// writes a map), each value written by `value`. Inlinable, so each
    /// value type gets its own copy: called generically across modules it
    /// cost more than the text it wrote (a one-entry map, 15k instructions).
    @inlinable
    public mutating func object<Value>(_ map: [String: Value], _ value: (inout JSONOutput, Value) -> Void) {
        byte(UInt8(ascii: "{"))
        if map.count < 2 {
            // None or one member (most nested session objects): no sort.
            if let member = map.first {
                string(member.key)
                byte(UInt8(ascii: ":"))
                value(&self, member.value)
            }
        } else {
            var first = true
            for member in map.sorted(by: { ByteOrder.precedes($0.key, $1.key) }) {
                if !first { byte(UInt8(ascii: ",")) }
                first = false
                string(member.key)
                byte(UInt8(ascii: ":"))
                value(&self, member.value)
            }
        }
        byte(UInt8(ascii: "}"))
    }

    /// The bytes of a string between quotes, escaped where JSON needs it.
    private mutating func quoted(_ source: UnsafeBufferPointer<UInt8>) {
        // Text with nothing to escape (nearly all of it) is copied in one go.
        var flags: UInt8 = 0
        for byte in source {
            flags |= (byte < 0x20 ? 1 : 0) | (byte == 0x22 ? 1 : 0) | (byte == 0x5C ? 1 : 0)
        }
        reserve(source.count + 2)
        base[count] = UInt8(ascii: "\"")
        count += 1
        if flags != 0 {
            escaped(source)
        } else if let start = source.baseAddress {
            bytes(start, count: source.count)
        }
        byte(UInt8(ascii: "\""))
    }

    /// The bytes of a string with quotes, backslashes and control
    /// characters escaped. Only ASCII bytes are escaped, and no byte of a
    /// multi-byte UTF-8 sequence is ASCII, so it goes byte by byte.
    private mutating func escaped(_ source: UnsafeBufferPointer<UInt8>) {
        for byte in source {
            switch byte {
            case UInt8(ascii: "\""): literal("\\\"")
            case UInt8(ascii: "\\"): literal("\\\\")
            case 0x0A: literal("\\n")
            case 0x0D: literal("\\r")
            case 0x09: literal("\\t")
            case 0x08: literal("\\b")
            case 0x0C: literal("\\f")
            case 0..<0x20:
                literal("\\u00")
                self.byte(Self.hexDigit(byte >> 4))
                self.byte(Self.hexDigit(byte & 0x0F))
            default: self.byte(byte)
            }
        }
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }

    /// The text written, as a `String`.
    public consuming func text() -> String {
        String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self)
    }
}
