import NIOCore
@testable import PortcullisSessions
import Testing

@Suite("RESP2 parser and encoder")
struct RESPParserTests {
    let parser = RESPParser()

    static let stream = "+OK\r\n-ERR boom\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*2\r\n$3\r\nfoo\r\n:7\r\n*-1\r\n*0\r\n$0\r\n\r\n"
    static let expected: [RESPValue] = [
        .simpleString("OK"), .error("ERR boom"), .integer(42), .bulkString(Array("hello".utf8)), .bulkString(nil),
        .array([.bulkString(Array("foo".utf8)), .integer(7)]), .array(nil), .array([]), .bulkString([]),
    ]

    @Test("Parses every RESP2 type from one buffer")
    func wholeStream() throws {
        var buffer = ByteBuffer(string: Self.stream)
        var values: [RESPValue] = []
        while let value = try parser.parse(&buffer) { values.append(value) }
        #expect(values == Self.expected)
        #expect(buffer.readableBytes == 0)
    }

    @Test("Parses the same stream fed one byte at a time, and split at every point")
    func splitInput() throws {
        let bytes = Array(Self.stream.utf8)
        var buffer = ByteBuffer()
        var values: [RESPValue] = []
        for byte in bytes {
            buffer.writeInteger(byte)
            while let value = try parser.parse(&buffer) { values.append(value) }
        }
        #expect(values == Self.expected)
        for cut in 1..<bytes.count {
            var split = ByteBuffer(bytes: bytes[0..<cut])
            var got: [RESPValue] = []
            while let value = try parser.parse(&split) { got.append(value) }
            split.writeBytes(bytes[cut...])
            while let value = try parser.parse(&split) { got.append(value) }
            #expect(got == Self.expected, "split at \(cut)")
        }
    }

    @Test("Garbage is an error, not a crash or a hang", arguments: [
        "hello\r\n",
        ":12x\r\n",
        "$abc\r\n",
        "$-5\r\n",
        "$3\r\nabcXY",
        "*-2\r\n",
        "+OK\rX",
        "$99999999999\r\n",
    ])
    func garbage(input: String) {
        var buffer = ByteBuffer(string: input)
        #expect(throws: RESPParseError.self) {
            while try parser.parse(&buffer) != nil {}
        }
    }

    @Test("Limits bound lines, sizes and nesting")
    func limits() {
        let small = RESPParser(maxLineLength: 8, maxBulkLength: 4, maxArrayCount: 2, maxDepth: 2)
        var longLine = ByteBuffer(string: "+" + String(repeating: "a", count: 20))
        #expect(throws: RESPParseError.lineTooLong(limit: 8)) { _ = try small.parse(&longLine) }
        var bigBulk = ByteBuffer(string: "$5\r\nhello\r\n")
        #expect(throws: RESPParseError.tooLarge(length: 5, limit: 4)) { _ = try small.parse(&bigBulk) }
        var wide = ByteBuffer(string: "*3\r\n")
        #expect(throws: RESPParseError.tooLarge(length: 3, limit: 2)) { _ = try small.parse(&wide) }
        var deep = ByteBuffer(string: "*1\r\n*1\r\n*1\r\n:1\r\n")
        #expect(throws: RESPParseError.tooDeep(limit: 2)) { _ = try small.parse(&deep) }
    }

    @Test("An incomplete value consumes nothing")
    func incompleteKeepsBytes() throws {
        var buffer = ByteBuffer(string: "*2\r\n$3\r\nfoo\r\n")
        #expect(try parser.parse(&buffer) == nil)
        #expect(buffer.readableBytes == 13)
    }

    @Test("Commands encode as arrays of bulk strings, UTF-8 lengths in bytes")
    func encoder() {
        var buffer = ByteBuffer()
        RESPEncoder.encodeCommand(["SET", "k", "é"], into: &buffer)
        #expect(buffer.readString(length: buffer.readableBytes) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n")
    }
}
