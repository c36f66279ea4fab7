import Foundation
import PortcullisCore
import Testing

@Suite("Core values")
struct CoreTests {
    @Test("VirtualClock moves only when told to")
    func virtualClock() {
        let clock = VirtualClock(start: Date(timeIntervalSince1970: 100))
        #expect(clock.unixSeconds() == 100)
        clock.advance(by: 86_400.5)
        #expect(clock.unixSeconds() == 86_500)
        #expect(clock.unixMilliseconds() == 86_500_500)
        clock.set(to: Date(timeIntervalSince1970: 5))
        #expect(clock.unixSeconds() == 5)
    }

    @Test("Keys are masked to the last four characters, short keys entirely")
    func masking() {
        #expect(KeyMask.mask("5976507eb46f2e00016bb4a13a4e7ca913238ee243102a32d27e56bc") == "****56bc")
        #expect(KeyMask.mask("abcd") == "--")
        #expect(KeyMask.mask("") == "--")
    }

    @Test("JSONValue keeps integers as integers and round-trips nested values")
    func jsonRoundTrip() throws {
        let text = #"{"a":1700000000,"b":1.5,"c":[true,null,"x"],"d":{"e":-1}}"#
        let value = try JSONValue(parsing: text)
        #expect(value.objectValue?["a"] == .int(1_700_000_000))
        #expect(value.objectValue?["b"] == .double(1.5))
        #expect(value.jsonString() == text)
        #expect(throws: (any Error).self) { try JSONValue(parsing: "{nope") }
    }

    @Test("A repeated field name keeps its last value")
    func repeatedFieldName() throws {
        let value = try JSONValue(parsing: #"{"a":1,"b":{"c":2,"c":3},"a":4}"#)
        #expect(value.objectValue?["a"] == .int(4))
        #expect(value.objectValue?["b"] == .object(["c": .int(3)]))
    }

    @Test("Numbers read as Go's decoder into an interface keeps them: integers exact to Int64's ends, the rest as doubles")
    func numbers() throws {
        let cases: [(String, JSONValue)] = [
            ("0", .int(0)), ("-0", .int(0)), ("7", .int(7)), ("-7", .int(-7)),
            ("999999999999999999", .int(999_999_999_999_999_999)),
            ("-999999999999999999", .int(-999_999_999_999_999_999)),
            ("1234567890123456789", .int(1_234_567_890_123_456_789)),
            ("9223372036854775807", .int(.max)), ("-9223372036854775808", .int(.min)),
            ("1.5", .double(1.5)), ("-2.25", .double(-2.25)), ("10.0", .int(10)), ("1e3", .int(1000)),
            ("2E-2", .double(0.02)), ("12345678901234567890", .double(12_345_678_901_234_567_890)),
        ]
        for (text, expected) in cases {
            #expect(try JSONReader.parse(text) == expected, "\(text)")
            #expect(try JSONReader.parse("[\(text),\(text)]") == .array([expected, expected]), "\(text)")
        }
        for text in ["01", "-", "1.", "1e", "-a", "00"] {
            #expect(throws: JSONParseError.self, "\(text)") { try JSONReader.parse(text) }
        }
    }

    @Test("A broken object or array is refused naming the container and what was expected")
    func containerErrors() {
        for (text, reason) in [("[1 2]", "expected ',' or ']' in an array"), ("[1", "the text ends inside an array"),
                               (#"{"a":1 "b":2}"#, "expected ',' or '}' in an object"), (#"{"a":1"#, "the text ends inside an object")] {
            #expect(throws: JSONParseError.self) { try JSONReader.parse(text) }
            do {
                _ = try JSONReader.parse(text)
            } catch {
                #expect(error.reason == reason, "\(text)")
            }
        }
    }

    @Test("One top-level field is read without the rest, as parsing the whole text would read it")
    func topLevelField() throws {
        let session = #"{"access_rights":{"api":{"expires":1,"versions":["a\"b",{"expires":2}]}},"alias":"x\u0041","expires":1700000060,"meta_data":{"expires":3},"tags":[[],{}]}"#
        #expect(JSONReader.topLevelField("expires", in: session) == .int(1_700_000_060))
        #expect(JSONReader.topLevelField("alias", in: session) == .string("xA"))
        #expect(JSONReader.topLevelField("missing", in: session) == nil)
        #expect(JSONReader.topLevelField("expires", in: #" {"expires": 5, "expires": 6} "#) == .int(6))
        #expect(JSONReader.topLevelField("expires", in: #"{"expires":5,"x":[1,}"#) == nil)
        #expect(JSONReader.topLevelField("expires", in: #"{"expires":5} trailing"#) == nil)
        #expect(JSONReader.topLevelField("expires", in: #"[{"expires":5}]"#) == nil)
        #expect(JSONReader.topLevelField("expires", in: "{}") == nil)
        // A name written with escapes is the name it decodes to.
        #expect(JSONReader.topLevelField("expires", in: #"{"x":{"a\"b":1},"exp\u0069res":7}"#) == .int(7))
        #expect(JSONReader.topLevelField("expire", in: #"{"expires":7}"#) == nil)
        // A string that is stepped over gets the same escape checks as a parsed one.
        for malformed in [#"{"expires":5,"x":"a\qb"}"#, #"{"x":"\u12G4","expires":5}"#, #"{"x":{"a\x":1},"expires":5}"#] {
            #expect(throws: (any Error).self) { try JSONValue(parsing: malformed) }
            #expect(JSONReader.topLevelField("expires", in: malformed) == nil)
        }
        // The same answer as a whole parse, for every field of the text.
        let whole = try JSONValue(parsing: session).objectValue ?? [:]
        for (name, value) in whole { #expect(JSONReader.topLevelField(name, in: session) == value) }
    }
}
