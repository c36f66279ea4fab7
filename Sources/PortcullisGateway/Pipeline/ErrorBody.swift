/// The bytes of every error the gateway writes, laid out as Tyk's
/// `templates/error.json` and `templates/error.xml` render them, because
/// clients and test suites written against Tyk compare the bytes.
enum ErrorBody {
    /// Which template a request gets: XML when it was sent as
    /// `application/xml`, `text/xml` or `application/soap+xml`, else JSON.
    enum Format {
        case json
        case xml(contentType: String)

        /// The format Tyk picks from the request's `Content-Type`.
        init(requestContentType: String?) {
            let media = requestContentType.map { $0.split(separator: ";", maxSplits: 1).first.map(String.init) ?? "" } ?? ""
            switch media {
            case "application/xml", "text/xml", "application/soap+xml": self = .xml(contentType: media)
            default: self = .json
            }
        }

        var contentType: String {
            switch self {
            case .json: return "application/json"
            case .xml(let type): return type
            }
        }
    }

    /// `{\n    "error": "<message>"\n}` (JSON) or the XML document.
    static func render(_ message: String, as format: Format = .json) -> String {
        switch format {
        case .json: return "{\n    \"error\": \"" + jsonEscaped(message) + "\"\n}"
        case .xml: return "<?xml version = \"1.0\" encoding = \"UTF-8\"?>\n<error>" + htmlEscaped(message) + "</error>"
        }
    }

    /// The message inside a JSON string: quotes, backslashes and control
    /// characters escaped, everything else (including `/`, `<` and non-ASCII)
    /// as it is.
    static func jsonEscaped(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else { return text }
        let hex = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 8)
        for byte in text.utf8 {
            switch byte {
            case 0x22, 0x5C: bytes.append(0x5C); bytes.append(byte)
            case 0x0A: bytes.append(contentsOf: Array(#"\n"#.utf8))
            case 0x0D: bytes.append(contentsOf: Array(#"\r"#.utf8))
            case 0x09: bytes.append(contentsOf: Array(#"\t"#.utf8))
            case ..<0x20: bytes.append(contentsOf: Array(#"\u00"#.utf8)); bytes.append(hex[Int(byte >> 4)]); bytes.append(hex[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The message as HTML text, escaped the way Go's `html/template` escapes it.
    static func htmlEscaped(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "'": result += "&#39;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&#34;"
            case "\0": result += "\u{FFFD}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
