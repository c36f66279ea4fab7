import Foundation

/// The base64 rules of Tyk's `b64enc`, `b64dec`, `rawb64enc` and `rawb64dec`.
enum Base64Text {
    /// Standard base64 with padding of the text's UTF-8 bytes.
    static func encode(_ text: String, padded: Bool) -> String {
        let encoded = Data(text.utf8).base64EncodedString()
        return padded ? encoded : String(encoded.prefix { $0 != "=" })
    }

    /// Standard decoding, retried without padding, as `b64dec` does; nil when
    /// neither works.
    static func decodeLenient(_ text: String) -> String? {
        if let data = Data(base64Encoded: text) { return ByteText.decode(data).text }
        return decodeUnpadded(text)
    }

    /// Unpadded decoding only, as `rawb64dec` does.
    static func decodeUnpadded(_ text: String) -> String? {
        guard !text.contains("="), text.count % 4 != 1 else { return nil }
        let padding = String(repeating: "=", count: (4 - text.count % 4) % 4)
        guard let data = Data(base64Encoded: text + padding) else { return nil }
        return ByteText.decode(data).text
    }
}
