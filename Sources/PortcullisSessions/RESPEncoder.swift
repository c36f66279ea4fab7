import NIOCore

/// Writes Redis commands in RESP2: an array of bulk strings.
public enum RESPEncoder {
    /// Appends `arguments` (command name first) to `buffer`.
    public static func encodeCommand(_ arguments: [String], into buffer: inout ByteBuffer) {
        buffer.writeString("*\(arguments.count)\r\n")
        for argument in arguments {
            buffer.writeString("$\(argument.utf8.count)\r\n")
            buffer.writeString(argument)
            buffer.writeString("\r\n")
        }
    }

    /// A fresh buffer holding one command.
    public static func command(_ arguments: [String], allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 16 + arguments.reduce(0) { $0 + $1.utf8.count + 16 })
        encodeCommand(arguments, into: &buffer)
        return buffer
    }
}
