import NIOCore

/// Writes Redis commands in RESP2: an array of bulk strings.
public enum RESPEncoder {
    /// Appends `arguments` (command name first) to `buffer`. Lengths are
    /// written as digits straight into the buffer: every store call passes
    /// through here, and building a `String` per length cost more than the
    /// rest of the encoding.
    public static func encodeCommand(_ arguments: [String], into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "*"))
        writeLength(arguments.count, into: &buffer)
        for argument in arguments {
            buffer.writeInteger(UInt8(ascii: "$"))
            writeLength(argument.utf8.count, into: &buffer)
            buffer.writeString(argument)
            buffer.writeStaticString("\r\n")
        }
    }

    /// `count` in decimal, then CRLF.
    private static func writeLength(_ count: Int, into buffer: inout ByteBuffer) {
        buffer.writeDecimal(count)
        buffer.writeStaticString("\r\n")
    }

    /// A fresh buffer holding one command.
    public static func command(_ arguments: [String], allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 16 + arguments.reduce(0) { $0 + $1.utf8.count + 16 })
        encodeCommand(arguments, into: &buffer)
        return buffer
    }
}

extension ByteBuffer {
    /// `value` in decimal digits, written without making a `String` of it
    /// (RESP lengths, HTTP status codes and `Content-Length`).
    package mutating func writeDecimal(_ value: Int) {
        guard value >= 0 else {
            writeString(String(value))
            return
        }
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            writeInteger(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
