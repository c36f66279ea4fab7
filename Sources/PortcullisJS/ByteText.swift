/// Converts bytes to JavaScript text and back without losing any byte.
///
/// Valid UTF-8 becomes ordinary text. Anything else is mapped one byte to one
/// code unit (Latin-1), and mapped back the same way when every code unit
/// still fits in a byte, so a handler that appends to a binary body returns
/// the original bytes plus its addition.
public enum ByteText: Sendable {
    /// UTF-8 text.
    case utf8
    /// One byte per code unit.
    case latin1

    /// Decodes bytes, choosing UTF-8 when it is valid.
    public static func decode(_ bytes: some Collection<UInt8>) -> (text: String, encoding: ByteText) {
        var iterator = bytes.makeIterator()
        var utf8 = UTF8()
        var valid = true
        loop: while true {
            switch utf8.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: break loop
            case .error:
                valid = false
                break loop
            }
        }
        if valid { return (String(decoding: bytes, as: UTF8.self), .utf8) }
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(Unicode.Scalar(byte)) }
        return (String(scalars), .latin1)
    }

    /// Encodes text back into bytes in this encoding; Latin-1 falls back to
    /// UTF-8 when the text gained characters beyond one byte.
    public func encode(_ text: String) -> [UInt8] {
        if self == .latin1 {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(text.unicodeScalars.count)
            for scalar in text.unicodeScalars {
                guard scalar.value <= 0xFF else { return Array(text.utf8) }
                bytes.append(UInt8(scalar.value))
            }
            return bytes
        }
        return Array(text.utf8)
    }
}
