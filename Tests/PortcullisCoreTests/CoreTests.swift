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
}
