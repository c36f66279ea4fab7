import NIOCore
import NIOHTTP1
import PortcullisSessions

/// Writes HTTP/1.1 start lines and header fields straight into a
/// `ByteBuffer`, so a whole message goes down the pipeline as one buffer
/// instead of head, body and end parts that each pass through an encoder.
///
/// A header field is only ever written whole and well formed: a name that
/// is not an RFC 9110 token is left out, and CR, LF or NUL in a value
/// becomes a space, as Go's server does, so no plugin or upstream can
/// split a message or smuggle a second one.
enum HTTPWireFormat {
    /// Bodies up to this size are copied behind the head so the message
    /// leaves in one buffer; larger ones follow the head as their own
    /// buffer, uncopied.
    static let inlineBodyLimit = 16 << 10

    /// `HTTP/1.1 200 OK\r\n`.
    static func writeStatusLine(_ status: Int, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("HTTP/1.1 ")
        buffer.writeDecimal(status)
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(HTTPResponseStatus(statusCode: status).reasonPhrase)
        buffer.writeStaticString("\r\n")
    }

    /// `GET /path HTTP/1.1\r\n`; a target with a space or a line break in
    /// it has those bytes percent-encoded so the line stays one line.
    static func writeRequestLine(method: HTTPMethod, target: String, into buffer: inout ByteBuffer) {
        buffer.writeString(method.rawValue)
        buffer.writeInteger(UInt8(ascii: " "))
        if target.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) {
            for byte in target.utf8 {
                if byte <= 0x20 || byte == 0x7F {
                    buffer.writeInteger(UInt8(ascii: "%"))
                    buffer.writeInteger(hexDigit(byte >> 4))
                    buffer.writeInteger(hexDigit(byte & 0x0F))
                } else {
                    buffer.writeInteger(byte)
                }
            }
        } else {
            buffer.writeString(target)
        }
        buffer.writeStaticString(" HTTP/1.1\r\n")
    }

    /// `Name: value\r\n`, or nothing when `name` is not a token. The field
    /// is copied in one write: four writes a field (name, colon, value,
    /// line end) each checked the buffer's room and uniqueness again.
    static func writeField(_ name: String, _ value: String, into buffer: inout ByteBuffer) {
        guard HeaderList.isToken(name) else { return }
        var name = name
        var value = value
        name.withUTF8 { nameBytes in
            value.withUTF8 { valueBytes in
                let size = nameBytes.count + valueBytes.count + 4
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
                    guard let base = out.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return 0 }
                    var at = 0
                    if let start = nameBytes.baseAddress {
                        (base + at).update(from: start, count: nameBytes.count)
                        at += nameBytes.count
                    }
                    base[at] = UInt8(ascii: ":")
                    base[at + 1] = UInt8(ascii: " ")
                    at += 2
                    // A CR, LF or NUL in a value becomes a space.
                    for byte in valueBytes {
                        base[at] = byte == 0x0D || byte == 0x0A || byte == 0x00 ? UInt8(ascii: " ") : byte
                        at += 1
                    }
                    base[at] = UInt8(ascii: "\r")
                    base[at + 1] = UInt8(ascii: "\n")
                    return size
                }
            }
        }
    }

    /// `Content-Length: n\r\n`.
    static func writeContentLength(_ length: Int, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("Content-Length: ")
        buffer.writeDecimal(length)
        buffer.writeStaticString("\r\n")
    }

    /// The blank line that ends a head.
    static func writeEndOfHead(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("\r\n")
    }

    /// Bytes a field takes on the wire, for sizing a buffer up front.
    static func fieldSize(_ name: String, _ value: String) -> Int {
        name.utf8.count + value.utf8.count + 4
    }

    /// Whether a status code's response carries a body at all (RFC 9110
    /// §6.4.1: never for 1xx, 204 or 304).
    static func statusAllowsBody(_ status: Int) -> Bool {
        status >= 200 && status != 204 && status != 304
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
    }
}
