import NIOCore
@testable import PortcullisSessions
import PropertyBased
import Testing

/// Fuzzes the incremental RESP2 parser that reads every reply from Redis.
///
/// Protects: (1) no byte sequence from a broken or hostile server crashes the
/// gateway or makes it spin: each call either returns a value (consuming at
/// least one byte), asks for more bytes (consuming nothing), or throws a
/// ``RESPParseError``; (2) the outcome does not depend on how TCP happened to
/// split the bytes; (3) every RESP2 value Redis can send is read back exactly,
/// whole or split at any byte; (4) deep nesting is refused at the depth limit
/// instead of overflowing the stack.
@Suite("Fuzz: RESP2 parser", .timeLimit(.minutes(2)))
struct RESPParserFuzzTests {
    // MARK: Encoding and generating values

    /// RESP2 bytes for `value`, as a Redis server writes them.
    static func encode(_ value: RESPValue, into bytes: inout [UInt8]) {
        func line(_ marker: Character, _ text: String) {
            bytes += Array("\(marker)\(text)\r\n".utf8)
        }
        switch value {
        case .simpleString(let text): line("+", text)
        case .error(let text): line("-", text)
        case .integer(let number): line(":", String(number))
        case .bulkString(nil): line("$", "-1")
        case .bulkString(let payload?):
            line("$", String(payload.count))
            bytes += payload + [13, 10]
        case .array(nil): line("*", "-1")
        case .array(let items?):
            line("*", String(items.count))
            for item in items { encode(item, into: &bytes) }
        }
    }

    static func encode(_ values: [RESPValue]) -> [UInt8] {
        var bytes: [UInt8] = []
        for value in values { encode(value, into: &bytes) }
        return bytes
    }

    /// Text for a simple string or error: anything but CR and LF.
    static func lineText(_ r: inout SplitMix64) -> String {
        String(FuzzText.string(&r, maxLength: 16).filter { $0 != "\r" && $0 != "\n" && $0 != "\r\n" })
    }

    /// A random RESP2 value; arrays nest at most `depth` more levels.
    static func value(_ r: inout SplitMix64, depth: Int) -> RESPValue {
        switch Int.random(in: 0..<(depth > 0 ? 9 : 7), using: &r) {
        case 0: return .simpleString(lineText(&r))
        case 1: return .error(r.chance(50) ? "ERR " + lineText(&r) : lineText(&r))
        case 2: return .integer(FuzzText.int64(&r))
        case 3: return .bulkString(nil)
        case 4: return .bulkString([])
        case 5:
            // Any bytes, CR and LF included: bulk strings are length-prefixed.
            let count = Int.random(in: 1...48, using: &r)
            return .bulkString((0..<count).map { _ in r.chance(30) ? r.pick([13, 10, 0, 0xFF]) : UInt8.random(in: 0...255, using: &r) })
        case 6: return .array(r.chance(50) ? nil : [])
        default:
            return .array((0..<Int.random(in: 1...4, using: &r)).map { _ in value(&r, depth: depth - 1) })
        }
    }

    /// A value nested exactly `levels` arrays deep around an integer.
    static func chain(levels: Int) -> RESPValue {
        (0..<levels).reduce(RESPValue.integer(7)) { inner, _ in .array([inner]) }
    }

    struct Stream: Sendable, CustomStringConvertible {
        var values: [RESPValue]
        var bytes: [UInt8]
        var chunkSizes: [Int]
        var description: String {
            let text = bytes.map { $0 >= 0x20 && $0 < 0x7F ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined()
            return "\(values) as \"\(text)\" in chunks \(chunkSizes)"
        }
    }


    /// One to six values (sometimes one nested right at the depth limit), their bytes, and a random chunking.
    static let streams = Generator<Stream, Shrink.None<Stream>>.seeded { r in
        var values = (0..<Int.random(in: 1...6, using: &r)).map { _ in value(&r, depth: 4) }
        if r.chance(5) { values.append(chain(levels: RESPParser().maxDepth)) }
        let bytes = encode(values)
        return Stream(values: values, bytes: bytes, chunkSizes: FuzzBytes.chunkSizes(total: bytes.count, &r))
    }

    // MARK: Feeding bytes

    /// What a connection ends up with after the bytes arrive: the values
    /// read, the bytes they used, and the error that closed it, if any.
    struct Outcome: Equatable, CustomStringConvertible {
        var values: [RESPValue] = []
        var consumed = 0
        var error: RESPParseError?
        var description: String { "values \(values) from \(consumed) bytes, error \(error.map { "\($0)" } ?? "none")" }
    }

    /// Feeds `bytes` in chunks of `sizes` the way `RESPFrameDecoder` does,
    /// stopping at the first error. Records an issue if a call returns a value
    /// without consuming bytes, consumes bytes without a value, or throws
    /// anything but ``RESPParseError``.
    static func feed(_ bytes: [UInt8], chunks sizes: [Int], parser: RESPParser = RESPParser(),
                     sourceLocation: SourceLocation = #_sourceLocation) -> Outcome {
        var outcome = Outcome()
        var buffer = ByteBuffer()
        var offset = 0
        for size in sizes {
            buffer.writeBytes(bytes[offset..<offset + size])
            offset += size
            while true {
                let before = buffer.readableBytes
                do {
                    guard let value = try parser.parse(&buffer) else {
                        #expect(buffer.readableBytes == before, "a call that needs more bytes consumed some", sourceLocation: sourceLocation)
                        break
                    }
                    #expect(buffer.readableBytes < before, "a value was returned without consuming bytes", sourceLocation: sourceLocation)
                    guard buffer.readableBytes < before else { return outcome }
                    outcome.values.append(value)
                    outcome.consumed += before - buffer.readableBytes
                } catch let error as RESPParseError {
                    outcome.error = error
                    return outcome
                } catch {
                    Issue.record("not a RESPParseError: \(error)", sourceLocation: sourceLocation)
                    return outcome
                }
            }
        }
        return outcome
    }

    // MARK: Properties

    @Test("Generated RESP2 values fed back in random chunk sizes parse to the same values")
    func roundTripInChunks() async {
        await propertyCheck(count: 3000, input: Self.streams) { stream in
            let outcome = Self.feed(stream.bytes, chunks: stream.chunkSizes)
            #expect(outcome.error == nil)
            #expect(outcome.values == stream.values)
            #expect(outcome.consumed == stream.bytes.count)
        }
    }

    @Test("A value split at every byte boundary parses the same; a strict prefix is never a value")
    func everySplit() async {
        let single = Generator<Stream, Shrink.None<Stream>>.seeded { r in
            let value = Self.value(&r, depth: 3)
            return Stream(values: [value], bytes: Self.encode([value]), chunkSizes: [])
        }
        let parser = RESPParser()
        await propertyCheck(count: 600, input: single) { stream throws in
            let bytes = stream.bytes
            for cut in 0..<bytes.count {
                var buffer = ByteBuffer(bytes: bytes[0..<cut])
                #expect(try parser.parse(&buffer) == nil, "prefix of \(cut) bytes")
                #expect(buffer.readableBytes == cut)
                buffer.writeBytes(bytes[cut...])
                #expect(try parser.parse(&buffer) == stream.values[0], "split at \(cut)")
                #expect(buffer.readableBytes == 0)
            }
        }
    }

    /// Random bytes, mostly from RESP's own alphabet so they get past the type
    /// marker, sometimes built from damaged valid replies.
    static let garbage = Generator<Stream, Shrink.None<Stream>>.seeded { r in
        var bytes: [UInt8]
        if r.chance(40) {
            bytes = encode((0..<Int.random(in: 1...3, using: &r)).map { _ in value(&r, depth: 3) })
            FuzzBytes.damage(&bytes, times: Int.random(in: 1...3, using: &r), alphabet: Array("*$+-:\r\n0123456789".utf8), &r)
        } else {
            let alphabet = Array("*$+-:\r\n\r\n0123456789-1".utf8)
            bytes = (0..<Int.random(in: 0...160, using: &r)).map { _ in
                r.chance(85) ? r.pick(alphabet) : UInt8.random(in: 0...255, using: &r)
            }
        }
        return Stream(values: [], bytes: bytes, chunkSizes: FuzzBytes.chunkSizes(total: bytes.count, &r))
    }

    static let smallLimits = RESPParser(maxLineLength: 8, maxBulkLength: 16, maxArrayCount: 4, maxDepth: 3)

    @Test("Arbitrary bytes never crash or spin; the outcome is the same however the bytes are split",
          arguments: [RESPParser(), smallLimits])
    func arbitraryBytes(parser: RESPParser) async {
        await propertyCheck(count: 3000, input: Self.garbage) { stream in
            let whole = Self.feed(stream.bytes, chunks: stream.bytes.isEmpty ? [] : [stream.bytes.count], parser: parser)
            let split = Self.feed(stream.bytes, chunks: stream.chunkSizes, parser: parser)
            #expect(whole == split)
            #expect(whole.values.count <= stream.bytes.count / 3)
            // Whatever was accepted is a well-formed value: written back out, it reads the same.
            // (Read with the default limits: invalid UTF-8 in a line comes back as U+FFFD, which is longer.)
            let again = Self.encode(whole.values)
            #expect(Self.feed(again, chunks: again.isEmpty ? [] : [again.count]) == Outcome(values: whole.values, consumed: again.count))
        }
    }

    // MARK: Limits and pathological nesting

    @Test("Arrays nested to the depth limit parse; one level deeper is refused")
    func depthLimitBoundary() throws {
        let parser = RESPParser()
        var atLimit = ByteBuffer(bytes: Self.encode([Self.chain(levels: parser.maxDepth)]))
        #expect(try parser.parse(&atLimit) == Self.chain(levels: parser.maxDepth))
        var beyond = ByteBuffer(bytes: Self.encode([Self.chain(levels: parser.maxDepth + 1)]))
        #expect(throws: RESPParseError.tooDeep(limit: parser.maxDepth)) { try parser.parse(&beyond) }
    }

    @Test("Arrays nested 100 000 deep are refused, whole or arriving in small chunks, not a stack overflow")
    func deepNesting() {
        let depth = 100_000
        let bytes = Array(String(repeating: "*1\r\n", count: depth).utf8) + Array(":1\r\n".utf8)
        let whole = Self.feed(bytes, chunks: [bytes.count])
        #expect(whole.error == .tooDeep(limit: RESPParser().maxDepth))
        #expect(whole.values.isEmpty)
        let trickled = Self.feed(Array(bytes.prefix(400)), chunks: Array(repeating: 4, count: 100))
        #expect(trickled.error == .tooDeep(limit: RESPParser().maxDepth))
        #expect(trickled.values.isEmpty)
        let nullTail = Array(String(repeating: "*2\r\n*-1\r\n", count: depth).utf8)
        #expect(Self.feed(nullTail, chunks: [nullTail.count]).error == .tooDeep(limit: RESPParser().maxDepth))
    }

    @Test("Huge declared sizes are refused or wait for bytes without reserving memory")
    func hugeDeclaredSizes() {
        for header in ["$67108865\r\n", "*1048577\r\n", "$9223372036854775807\r\n", "*9223372036854775807\r\n",
                       "$-9223372036854775808\r\n", ":9223372036854775808\r\n", "$99999999999999999999\r\n"] {
            let outcome = Self.feed(Array(header.utf8), chunks: [header.utf8.count])
            #expect(outcome.error != nil, "\(header)")
        }
        let pending = Array("*1048576\r\n:1\r\n".utf8)
        let waiting = Self.feed(pending, chunks: [pending.count])
        #expect(waiting == Outcome(values: [], consumed: 0, error: nil))
    }
}
