import PortcullisCore

/// Query strings read the way Go's `url.ParseQuery` reads them, which is
/// what Tyk's plugins see as `request.Params`: pairs split on `&`, the
/// key from the value on the first `=`, `+` as a space, `%XX` decoded; a
/// pair with a `;` or a broken escape is dropped.
enum QueryString {
    static func parse(_ query: Substring.UTF8View) -> [String: [String]] {
        var params: [String: [String]] = [:]
        var start = query.startIndex
        while start < query.endIndex {
            let end = query[start...].firstIndex(of: UInt8(ascii: "&")) ?? query.endIndex
            let pair = query[start..<end]
            start = end < query.endIndex ? query.index(after: end) : end
            guard !pair.isEmpty, !pair.contains(UInt8(ascii: ";")) else { continue }
            let equals = pair.firstIndex(of: UInt8(ascii: "="))
            let rawKey = equals.map { pair[..<$0] } ?? pair
            let rawValue = equals.map { pair[pair.index(after: $0)...] } ?? pair[pair.endIndex...]
            guard let key = unescape(rawKey), let value = unescape(rawValue) else { continue }
            params[key, default: []].append(value)
        }
        return params
    }

    static func parse(_ query: String) -> [String: [String]] {
        parse(Substring(query).utf8)
    }

    /// The query Go's `url.Values.Encode` writes: keys sorted by their
    /// bytes, each key's values in order, `key=value` joined by `&`, both
    /// escaped as `url.QueryEscape` does (space as `+`).
    static func encode(_ params: [String: [String]]) -> String {
        var out: [UInt8] = []
        for key in params.keys.sorted(by: ByteOrder.precedes) {
            for value in params[key] ?? [] {
                if !out.isEmpty { out.append(UInt8(ascii: "&")) }
                escape(key, into: &out)
                out.append(UInt8(ascii: "="))
                escape(value, into: &out)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `url.QueryEscape`: letters, digits and `-_.~` as they are, space as
    /// `+`, every other byte as `%XX` with upper-case hex.
    private static func escape(_ text: String, into out: inout [UInt8]) {
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: " "):
                out.append(UInt8(ascii: "+"))
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
    }

    /// `+` → space, `%XX` → the byte; nil for a broken escape.
    private static func unescape(_ bytes: Substring.UTF8View) -> String? {
        guard bytes.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else {
            return String(Substring(bytes))
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%") {
                let first = bytes.index(after: index)
                guard first < bytes.endIndex else { return nil }
                let second = bytes.index(after: first)
                guard second < bytes.endIndex, let high = hex(bytes[first]), let low = hex(bytes[second]) else { return nil }
                out.append(high << 4 | low)
                index = second
            } else {
                out.append(byte)
            }
            index = bytes.index(after: index)
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
