import Foundation

/// Base64 with the URL-safe alphabet and no padding (RFC 4648 §5), as JSON
/// Web Tokens use it. Decoding also accepts the standard alphabet and
/// padding, so one reader serves tokens and Tyk's base64 `jwt_source`.
public enum Base64URL {
    /// The unpadded URL-safe encoding of `bytes`.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        String(Data(bytes).base64EncodedString().compactMap { character -> Character? in
            switch character {
            case "+": return "-"
            case "/": return "_"
            case "=": return nil
            default: return character
            }
        })
    }

    /// The bytes of `text`, or nil when it is not base64 in either alphabet.
    public static func decode(_ text: some StringProtocol) -> Data? {
        var bytes = text.utf8.map { byte -> UInt8 in
            switch byte {
            case UInt8(ascii: "-"): return UInt8(ascii: "+")
            case UInt8(ascii: "_"): return UInt8(ascii: "/")
            default: return byte
            }
        }
        while bytes.count % 4 != 0 { bytes.append(UInt8(ascii: "=")) }
        return Data(base64Encoded: Data(bytes))
    }
}
