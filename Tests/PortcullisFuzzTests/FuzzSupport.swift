import PortcullisCore
import PropertyBased

/// A small deterministic generator. Every fuzz generator draws one 64-bit
/// seed from the property checker's random source and builds its whole input
/// from this, so a failing case is reproduced by the `.fixedSeed` the checker
/// prints.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True with probability `percent`/100.
    mutating func chance(_ percent: Int) -> Bool {
        Int.random(in: 0..<100, using: &self) < percent
    }

    /// One element of a non-empty array.
    mutating func pick<T>(_ items: [T]) -> T {
        items[Int.random(in: 0..<items.count, using: &self)]
    }
}

extension Generator where ShrinkSequence == Shrink.None<ResultValue> {
    /// A generator whose whole value is built from one seed by `build`.
    static func seeded(_ build: @Sendable @escaping (inout SplitMix64) -> ResultValue) -> Self {
        Self { rng in
            var source = SplitMix64(seed: rng.next())
            return build(&source)
        }
    }
}

/// Random pieces of text and JSON used by every fuzz suite.
enum FuzzText {
    /// Characters that stress JSON string escaping and Unicode handling.
    static let awkwardCharacters: [Character] = [
        "\u{0000}", "\u{0001}", "\u{001F}", "\u{007F}", "\"", "\\", "/", "\n", "\r", "\t", "\u{2028}", "\u{2029}",
        "é", "e\u{0301}", "ß", "😀", "👩‍👩‍👧", "中", "\u{FEFF}", "\u{FFFD}", "\u{10FFFF}", " ", "{", "}", "[", "]", ":", ",",
    ]

    /// A string of up to `maxLength` characters: mostly ASCII, with awkward characters mixed in.
    static func string(_ r: inout SplitMix64, maxLength: Int = 12) -> String {
        let length = Int.random(in: 0...maxLength, using: &r)
        var text = ""
        for _ in 0..<length {
            if r.chance(20) {
                text.append(r.pick(awkwardCharacters))
            } else if r.chance(5) {
                let scalar = Unicode.Scalar(UInt32.random(in: 0x80...0x2FFFF, using: &r)) ?? "x"
                text.unicodeScalars.append(scalar)
            } else {
                text.unicodeScalars.append(Unicode.Scalar(UInt8.random(in: 0x20...0x7E, using: &r)))
            }
        }
        return text
    }

    /// An integer that is often at or near an edge of Int64.
    static func int64(_ r: inout SplitMix64) -> Int64 {
        switch Int.random(in: 0..<8, using: &r) {
        case 0: return r.pick([Int64.min, Int64.max, Int64.min + 1, Int64.max - 1, 0, -1, 1])
        case 1: return r.pick([1 << 53, (1 << 53) + 1, -(1 << 53) - 1, 9_000_000_000_000_000, 1_700_000_000, 4_102_444_800])
        case 2: return Int64.random(in: -1000...1000, using: &r)
        case 3: return Int64.random(in: 1_600_000_000...2_000_000_000, using: &r)
        default: return Int64.random(in: Int64.min...Int64.max, using: &r)
        }
    }

    /// Any finite double, often an edge case (negative zero, subnormal, huge, whole).
    static func finiteDouble(_ r: inout SplitMix64) -> Double {
        switch Int.random(in: 0..<7, using: &r) {
        case 0:
            return r.pick([0.0, -0.0, 0.5, -1.5, .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude,
                           -.greatestFiniteMagnitude, 9e15, 9.2e18, 1e300, 1e-300, 0.1, 1.0 / 3.0, 123_456_789.123])
        case 1: return Double(Int64.random(in: -1_000_000...1_000_000, using: &r))
        case 2: return Double.random(in: -1000...1000, using: &r)
        case 3: return Double(Int64.random(in: Int64.min...Int64.max, using: &r))
        default:
            let value = Double(bitPattern: r.next())
            return value.isFinite ? value : 1.25
        }
    }

    /// A finite double with a non-zero fraction, which JSON keeps as a double
    /// (a whole double is written without a fraction and reads back as an integer).
    static func fractionalDouble(_ r: inout SplitMix64) -> Double {
        while true {
            let value = finiteDouble(&r)
            if value != value.rounded() { return value }
            if r.chance(50) { return value + 0.25 != value ? value + 0.25 : 0.75 }
        }
    }

    /// A random JSON value of bounded depth and size. Doubles always have a
    /// fraction so the value survives a text round trip unchanged.
    static func jsonValue(_ r: inout SplitMix64, depth: Int = 3) -> JSONValue {
        let leafOnly = depth <= 0
        switch Int.random(in: 0..<(leafOnly ? 5 : 7), using: &r) {
        case 0: return .null
        case 1: return .bool(r.chance(50))
        case 2: return .int(int64(&r))
        case 3: return .double(fractionalDouble(&r))
        case 4: return .string(string(&r))
        case 5:
            let count = Int.random(in: 0...4, using: &r)
            return .array((0..<count).map { _ in jsonValue(&r, depth: depth - 1) })
        default:
            let count = Int.random(in: 0...4, using: &r)
            var members: [String: JSONValue] = [:]
            for _ in 0..<count { members[string(&r, maxLength: 8)] = jsonValue(&r, depth: depth - 1) }
            return .object(members)
        }
    }

    /// A random object of bounded depth.
    static func jsonObject(_ r: inout SplitMix64, depth: Int = 2, maxCount: Int = 4) -> JSONValue {
        var members: [String: JSONValue] = [:]
        for _ in 0..<Int.random(in: 0...maxCount, using: &r) { members[string(&r, maxLength: 8)] = jsonValue(&r, depth: depth - 1) }
        return .object(members)
    }

    /// Raw JSON fragments that parsers tend to get wrong: out-of-range and
    /// odd numbers, NUL characters, deep nesting, broken syntax.
    static func oddFragment(_ r: inout SplitMix64) -> String {
        r.pick([
            "1e400", "-1e400", "-0", "-0.0", "0e0", "1E+2", "1.5", "1700000000.5", "9223372036854775807", "9223372036854775808",
            "-9223372036854775809", "18446744073709551616", "123456789012345678901234567890", "4.9e-324", "2.5e-400", "1e-400",
            "0.1e1", "00", "01", "+1", ".5", "5.", "1e", "NaN", "Infinity", "-Infinity", "\"\\u0000\"", "\"\\ud800\"",
            "\"\\udc00\\ud800\"", "\"\\uZZZZ\"", "\"\u{0}\"", "\"\\x41\"", "\"unterminated", "true", "false", "null", "nul",
            "tru", "[]", "{}", "[[[[[[[[[[]]]]]]]]]]", String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
            String(repeating: "[", count: 40), "{\"a\":", "{\"a\" 1}", "[1,]", "{,}", "{\"\":\"\"}", "\"\u{FEFF}\"", "\u{FEFF}",
            "\"" + String(repeating: "x", count: 3000) + "\"", "{\"k\":1,\"k\":2}", "[1 2]", "//", "/* */", "'s'",
        ])
    }
}

/// Ways to damage JSON text: the mutations a fuzzer applies to valid documents.
enum JSONMutation {
    /// Applies one to four random mutations to `text`.
    static func mutate(_ text: String, _ r: inout SplitMix64) -> String {
        var bytes = Array(text.utf8)
        for _ in 0..<Int.random(in: 1...4, using: &r) {
            mutateOnce(&bytes, &r)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func mutateOnce(_ bytes: inout [UInt8], _ r: inout SplitMix64) {
        let position = bytes.isEmpty ? 0 : Int.random(in: 0...bytes.count, using: &r)
        switch Int.random(in: 0..<9, using: &r) {
        case 0 where !bytes.isEmpty:
            // Flip one bit.
            let index = Int.random(in: 0..<bytes.count, using: &r)
            bytes[index] ^= UInt8(1) << UInt8.random(in: 0...7, using: &r)
        case 1 where !bytes.isEmpty:
            // Replace a byte with a random or structural one.
            let index = Int.random(in: 0..<bytes.count, using: &r)
            bytes[index] = r.chance(50) ? UInt8.random(in: 0...255, using: &r) : r.pick(Array("{}[]:,\"\\-+.eE0123456789tfn ".utf8))
        case 2:
            // Truncate.
            bytes.removeSubrange(position...)
        case 3 where !bytes.isEmpty:
            // Delete a run.
            let end = min(bytes.count, position + Int.random(in: 1...8, using: &r))
            if position < end { bytes.removeSubrange(position..<end) }
        case 4:
            // Insert an odd fragment anywhere.
            bytes.insert(contentsOf: Array(FuzzText.oddFragment(&r).utf8), at: position)
        case 5:
            // Replace the value after a random colon with an odd fragment.
            let colons = bytes.indices.filter { bytes[$0] == UInt8(ascii: ":") }
            guard !colons.isEmpty else { return }
            let start = r.pick(colons) + 1
            var end = start
            while end < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}")].contains(bytes[end]) { end += 1 }
            bytes.replaceSubrange(start..<end, with: Array(FuzzText.oddFragment(&r).utf8))
        case 6 where bytes.count > 1:
            // Duplicate a slice somewhere else.
            let start = Int.random(in: 0..<bytes.count, using: &r)
            let end = min(bytes.count, start + Int.random(in: 1...16, using: &r))
            bytes.insert(contentsOf: Array(bytes[start..<end]), at: position)
        case 7:
            // Insert random bytes, including invalid UTF-8.
            let junk = (0..<Int.random(in: 1...6, using: &r)).map { _ in UInt8.random(in: 0...255, using: &r) }
            bytes.insert(contentsOf: junk, at: position)
        default:
            // Wrap everything in an array or object.
            bytes = r.chance(50) ? Array("[".utf8) + bytes + Array("]".utf8) : Array("{\"x\":".utf8) + bytes + Array("}".utf8)
        }
    }

    /// Arbitrary text: random bytes, JSON-ish token soup or odd fragments.
    static func arbitraryText(_ r: inout SplitMix64) -> String {
        switch Int.random(in: 0..<4, using: &r) {
        case 0:
            let bytes = (0..<Int.random(in: 0...64, using: &r)).map { _ in UInt8.random(in: 0...255, using: &r) }
            return String(decoding: bytes, as: UTF8.self)
        case 1:
            let tokens = ["{", "}", "[", "]", ":", ",", "\"a\"", "\"expires\"", "\"meta_data\"", "1", "-0", "1e400", "null", "true", " ", "\"\\u0000\""]
            return (0..<Int.random(in: 0...24, using: &r)).map { _ in r.pick(tokens) }.joined()
        case 2:
            return FuzzText.oddFragment(&r)
        default:
            return FuzzText.string(&r, maxLength: 40)
        }
    }
}

/// Deeply nested documents, for the stack-depth checks.
enum DeepNesting {
    /// `[[[…]]]` nested `depth` times, closed when `closed`.
    static func arrays(depth: Int, closed: Bool = true) -> String {
        String(repeating: "[", count: depth) + (closed ? String(repeating: "]", count: depth) : "")
    }

    /// `{"a":{"a":…}}` nested `depth` times.
    static func objects(depth: Int) -> String {
        String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth)
    }
}

/// Byte streams as a connection may deliver them, whole or damaged, for the
/// suites that fuzz a protocol reader.
enum FuzzBytes {
    /// Sizes of the reads a stream of `total` bytes arrives in: single
    /// bytes, small reads or a few large ones, chosen per stream.
    static func chunkSizes(total: Int, _ r: inout SplitMix64) -> [Int] {
        var sizes: [Int] = []
        var left = total
        let maximum = r.pick([1, 3, 7, 64, 4096])
        while left > 0 {
            let size = min(left, Int.random(in: 1...maximum, using: &r))
            sizes.append(size)
            left -= size
        }
        return sizes
    }

    /// Damages `bytes` in `count` places (while any are left): a byte
    /// replaced by one of `alphabet`, a byte removed, or a random byte inserted.
    static func damage(_ bytes: inout [UInt8], times count: Int, alphabet: [UInt8], _ r: inout SplitMix64) {
        for _ in 0..<count where !bytes.isEmpty {
            let index = Int.random(in: 0..<bytes.count, using: &r)
            switch Int.random(in: 0..<3, using: &r) {
            case 0: bytes[index] = r.pick(alphabet)
            case 1: bytes.remove(at: index)
            default: bytes.insert(UInt8.random(in: 0...255, using: &r), at: index)
            }
        }
    }
}
