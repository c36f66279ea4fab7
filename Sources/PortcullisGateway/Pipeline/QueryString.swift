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
