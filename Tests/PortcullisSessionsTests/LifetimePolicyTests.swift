@testable import PortcullisSessions
import Testing

@Suite("Lifetime policy (store TTL)")
struct LifetimePolicyTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var policy = LifetimePolicy()
        var keyLifetime: Int64 = 0
        var apiLifetime: Int64 = 0
        var apiRespects = false
        var expiresIn: Int64? = nil
        var action = ""
        var grace: Int64 = 0
        var expected: Int64
        var testDescription: String { name }
    }

    static let now: Int64 = 1_700_000_000

    static let table: [Row] = [
        Row(name: "nothing set: never deleted", expected: 0),
        Row(name: "API session_lifetime", apiLifetime: 86_400, expected: 86_400),
        Row(name: "global is the fallback when the API sets none (seed 000)", policy: LifetimePolicy(globalSessionLifetime: 3600), expected: 3600),
        Row(name: "API lifetime supersedes global", policy: LifetimePolicy(globalSessionLifetime: 3600), apiLifetime: 60, expected: 60),
        Row(name: "Tyk's code: global only when forced", policy: LifetimePolicy(globalSessionLifetime: 3600, globalLifetimeIsFallback: false), expected: 0),
        Row(name: "forced global overrides the API", policy: LifetimePolicy(globalSessionLifetime: 3600, forceGlobalSessionLifetime: true), apiLifetime: 60, expected: 3600),
        Row(name: "forced global overrides post_expiry_action", policy: LifetimePolicy(globalSessionLifetime: 10, forceGlobalSessionLifetime: true), expiresIn: 500, action: "delete", expected: 10),
        Row(name: "key-level lifetime beats the API's", keyLifetime: 120, apiLifetime: 60, expected: 120),
        Row(name: "respect expiry stretches the TTL to expires", apiLifetime: 60, apiRespects: true, expiresIn: 1000, expected: 1000),
        Row(name: "respect expiry keeps a shorter-lived key's lifetime", apiLifetime: 600, apiRespects: true, expiresIn: 100, expected: 600),
        Row(name: "gateway respect flag forces it on", policy: LifetimePolicy(respectKeyExpiration: true), apiLifetime: 60, expiresIn: 1000, expected: 1000),
        Row(name: "respect expiry with a never-expiring key: never deleted", apiLifetime: 60, apiRespects: true, expiresIn: nil, expected: 0),
        Row(name: "post_expiry delete: TTL ends at expires", apiLifetime: 99_999, expiresIn: 300, action: "delete", expected: 300),
        Row(name: "post_expiry delete of an already expired key: at least 1", expiresIn: -50, action: "delete", expected: 1),
        Row(name: "post_expiry delete without expires: no TTL", action: "delete", expected: 0),
        Row(name: "retain with grace", expiresIn: 300, action: "retain", grace: 60, expected: 360),
        Row(name: "retain with grace -1: never", expiresIn: 300, action: "retain", grace: -1, expected: -1),
        Row(name: "retain without grace falls through to lifetimes", apiLifetime: 77, expiresIn: 300, action: "retain", expected: 77),
    ]

    @Test("Rules table", arguments: table)
    func rules(row: Row) {
        var session = makeSession(expires: row.expiresIn.map { Self.now + $0 } ?? 0)
        session.sessionLifetime = row.keyLifetime
        session.postExpiryAction = row.action
        session.postExpiryGracePeriod = row.grace
        let api = APISessionSettings(apiID: "api1", sessionLifetime: row.apiLifetime, respectsKeyExpiration: row.apiRespects)
        #expect(row.policy.lifetime(for: session, apis: [api], now: Self.now) == row.expected)
    }

    @Test("Across APIs the largest lifetime wins and -1 wins outright")
    func largestWins() {
        let policy = LifetimePolicy()
        let session = makeSession()
        let short = APISessionSettings(apiID: "a", sessionLifetime: 60)
        let long = APISessionSettings(apiID: "b", sessionLifetime: 600)
        let none = APISessionSettings(apiID: "c")
        #expect(policy.lifetime(for: session, apis: [short, long, none], now: Self.now) == 600)
        var retained = makeSession(expires: Self.now + 10)
        retained.postExpiryAction = "retain"
        retained.postExpiryGracePeriod = -1
        #expect(policy.lifetime(for: retained, apis: [short, long], now: Self.now) == -1)
        #expect(policy.lifetime(for: session, apis: [], now: Self.now) == 0)
    }
}
