/// One RESP2 value as Redis sends it.
public enum RESPValue: Sendable, Equatable {
    /// `+OK`.
    case simpleString(String)
    /// `-ERR message`.
    case error(String)
    /// `:42`.
    case integer(Int64)
    /// `$5\r\nhello`; nil for the null bulk string `$-1`.
    case bulkString([UInt8]?)
    /// `*2\r\n...`; nil for the null array `*-1`.
    case array([RESPValue]?)

    /// The value as text when it is a (non-null) simple or bulk string.
    public var text: String? {
        switch self {
        case .simpleString(let s): return s
        case .bulkString(let bytes?): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }

    /// Whether this is a null bulk string or null array.
    public var isNull: Bool {
        switch self {
        case .bulkString(nil), .array(nil): return true
        default: return false
        }
    }

    /// A short description for error messages (never the whole payload).
    var summary: String {
        switch self {
        case .simpleString(let s): return "+\(s.prefix(40))"
        case .error(let s): return "-\(s.prefix(80))"
        case .integer(let i): return ":\(i)"
        case .bulkString(nil): return "null"
        case .bulkString(let bytes?): return "a \(bytes.count)-byte string"
        case .array(nil): return "null array"
        case .array(let items?): return "an array of \(items.count)"
        }
    }
}
