@testable import PortcullisSessions
import Testing

@Suite("Key hashing")
struct KeyHashingTests {
    // Reference values from the MurmurHash3 reference implementation (seed 0),
    // printed as Tyk prints them: big-endian hex.
    @Test("MurmurHash3 x86_32 matches known vectors", arguments: [
        ("", "00000000"),
        ("hello", "248bfa47"),
        ("The quick brown fox jumps over the lazy dog", "2e4ff723"),
        ("5976507eb46f2e00016bb4a13a4e7ca913238ee243102a32d27e56bc", "e843b4e2"),
        ("abc123456789x", "0fcc9bbe"),
    ])
    func murmur32(input: String, expected: String) {
        #expect(KeyHashFunction.murmur32.hexDigest(input) == expected)
    }

    @Test("MurmurHash3 x64_128 and its 64-bit half match known vectors", arguments: [
        ("", "00000000000000000000000000000000"),
        ("hello", "cbd8a7b341bd9b025b1e906a48ae1d19"),
        ("The quick brown fox jumps over the lazy dog", "e34bbc7bbc071b6c7a433ca9c49a9347"),
        ("5976507eb46f2e00016bb4a13a4e7ca913238ee243102a32d27e56bc", "361d62b65db63487232b78912b9aaf79"),
        ("abc123456789x", "d41da66a1f420ea3f92e50bbde9365c8"),
    ])
    func murmur128(input: String, expected: String) {
        #expect(KeyHashFunction.murmur128.hexDigest(input) == expected)
        #expect(KeyHashFunction.murmur64.hexDigest(input) == String(expected.prefix(16)))
    }

    @Test("sha256 is lowercase hex")
    func sha256() {
        #expect(KeyHashFunction.sha256.hexDigest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("hash_key_function names parse; empty means murmur32; unknown is refused")
    func configNames() {
        #expect(KeyHashFunction(configName: "") == .murmur32)
        #expect(KeyHashFunction(configName: "Murmur64") == .murmur64)
        #expect(KeyHashFunction(configName: "md5") == nil)
    }

    @Test("Store names: plain, hashed with murmur32 for custom keys, token-embedded algorithm honoured")
    func storageNames() {
        let plain = KeyNaming()
        #expect(plain.sessionKey("abc123456789x") == "apikey-abc123456789x")
        #expect(plain.quotaKey("abc123456789x") == "quota-abc123456789x")
        let hashed = KeyNaming(hashKeys: true, hashFunction: .murmur64)
        #expect(hashed.sessionKey("abc123456789x") == "apikey-0fcc9bbe")
        // base64 of {"org":"o","id":"k","h":"murmur64"}, unpadded, as Tyk generates tokens.
        let token = "eyJvcmciOiJvIiwiaWQiOiJrIiwiaCI6Im11cm11cjY0In0"
        #expect(hashed.sessionKey(token) == "apikey-" + KeyHashFunction.murmur64.hexDigest(token))
        let configured = KeyNaming(hashKeys: true, hashFunction: .sha256, hashLegacyKeysWithConfiguredFunction: true)
        #expect(configured.storedName("abc") == KeyHashFunction.sha256.hexDigest("abc"))
    }
}
