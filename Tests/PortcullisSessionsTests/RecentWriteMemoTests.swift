@testable import PortcullisSessions
import Testing

@Suite("This node's recent session writes, for the renewal count")
struct RecentWriteMemoTests {
    @Test("A replaced text is answered only when it equals one of the key's last few writes, byte for byte")
    func answersOnlyKnownTexts() {
        let memo = RecentWriteMemo()
        for expires in Int64(1)...5 { memo.note("key-a", body: #"{"expires":\#(expires)}"#, expires: expires) }
        #expect(memo.expires("key-a", body: #"{"expires":5}"#) == 5)
        #expect(memo.expires("key-a", body: #"{"expires":2}"#) == 2, "four texts are kept per key")
        #expect(memo.expires("key-a", body: #"{"expires":1}"#) == nil, "the oldest went when the fifth came")
        #expect(memo.expires("key-a", body: #"{"expires": 5}"#) == nil, "a text that differs at all is not taken for one")
        #expect(memo.expires("key-b", body: #"{"expires":5}"#) == nil, "texts belong to their key")
    }

    @Test("When full it starts again empty, keeping the key being written")
    func bounded() {
        let memo = RecentWriteMemo(capacity: 2)
        memo.note("one", body: "{}", expires: 1)
        memo.note("two", body: "{}", expires: 2)
        memo.note("three", body: "{}", expires: 3)
        #expect(memo.expires("one", body: "{}") == nil)
        #expect(memo.expires("two", body: "{}") == nil)
        #expect(memo.expires("three", body: "{}") == 3)
        memo.note("three", body: "{ }", expires: 4)
        #expect(memo.expires("three", body: "{}") == 3, "a key already held adds to its list without emptying the memo")
    }
}
