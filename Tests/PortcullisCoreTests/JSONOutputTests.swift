import Foundation
import PortcullisCore
import Testing

@Suite("JSONOutput")
struct JSONOutputTests {
    @Test("Integers at the edges of Int64 are written as Foundation writes them")
    func integers() {
        for number: Int64 in [0, 7, -7, 10, 99, 100, 1_700_000_000, -1_000_000, .max, .min] {
            var out = JSONOutput(capacity: 1)
            out.integer(number)
            #expect(out.text() == String(number))
        }
    }

    @Test("Strings are escaped the way JSON readers undo: every control character, quote and backslash; other text as it is")
    func escaping() throws {
        var controls = ""
        for value in 0..<0x20 { controls.unicodeScalars.append(Unicode.Scalar(UInt8(value))) }
        let samples = ["plain", "", "quote \" and back\\slash", controls, "é, 日本, 🙂 and /slash", String(repeating: "long ", count: 200)]
        for sample in samples {
            var out = JSONOutput(capacity: 4)
            out.string(sample)
            let text = out.text()
            let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) as? String
            #expect(parsed == sample, "\(text)")
        }
        var out = JSONOutput()
        out.string("\u{8}\u{c}\n\r\t\u{1}\u{1f}\"\\")
        #expect(out.text() == #""\b\f\n\r\t\u0001\u001f\"\\""#)
    }

    @Test("A byte that needs escaping is found at every position of a string, beside ASCII and multi-byte text")
    func escapingAtEveryPosition() throws {
        let specials: [Character] = ["\"", "\\", "\u{0}", "\u{1f}", "\n"]
        let fillers: [Character] = ["a", "~", "é", " ", "!", "]"]
        for length in 1...24 {
            for position in 0..<length {
                for special in specials {
                    let filler = fillers[(length + position) % fillers.count]
                    var sample = String(repeating: filler, count: length)
                    let index = sample.index(sample.startIndex, offsetBy: position)
                    sample.replaceSubrange(index...index, with: String(special))
                    var out = JSONOutput(capacity: 4)
                    out.string(sample)
                    let text = out.text()
                    let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) as? String
                    #expect(parsed == sample, "\(text)")
                }
            }
            // Bytes just above the escaped ones, and every byte at or past
            // 0x80, are copied as they are.
            let plain = String(repeating: "\u{20}#]\u{7f}ÿ€", count: length)
            var out = JSONOutput()
            out.string(plain)
            #expect(out.text() == "\"" + plain + "\"")
        }
    }

    @Test("Text written well past the first capacity keeps every byte in order")
    func growth() {
        var out = JSONOutput(capacity: 16)
        var expected = ""
        for index in 0..<500 {
            out.literal(index == 0 ? "[" : ",")
            out.string("item-\(index)")
            out.byte(UInt8(ascii: ":"))
            out.integer(Int64(index))
            out.raw("{\"nested\":true}")
            expected += (index == 0 ? "[" : ",") + "\"item-\(index)\":\(index){\"nested\":true}"
        }
        out.literal("]")
        expected += "]"
        #expect(out.text() == expected)
    }
}
