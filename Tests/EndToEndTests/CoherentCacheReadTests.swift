import Foundation
import PortcullisCore
import PortcullisGateway
import PortcullisSessions
import PortcullisTestSupport
import Testing

/// `TykGetKeyData` answers from the node's coherent cache: no store round
/// trip for a cached session, and never a session another node replaced.
@Suite("TykGetKeyData from the coherent cache", .serialized)
struct CoherentCacheReadTests {
    private static func storeReads(_ gateway: Gateway) -> Int {
        gateway.services.sessions.statistics.snapshot.storeCalls["read", default: 0]
    }

    @Test("A cached session is read by the forum hook and auth without Redis; node A's change reaches node B's hook at once")
    func cachedAndCoherent() async throws {
        let redis = try RedisServer()
        func store() -> RedisStore { RedisStore(configuration: RedisConfiguration(port: redis.port)) }
        let files = [
            "apps/forum.json": Fixture.tokenAPI(id: "forum-api", listen: "/forum/", header: "x-session-key",
                                                pre: [("forumRenewal", "forum-renewal.js")]),
            "forum-renewal.js": try Fixture.forumRenewal,
        ]
        let a = try await GatewayHarness.make(files: files, store: store())
        let b = try await a.secondNode(store: store())
        let key = [("x-session-key", "coherent-key")]

        // The first request creates the session (one store read, a miss).
        #expect(await GatewayHarness.send(b, "/forum/x", headers: key).status == 200)
        let readsAfterFirst = Self.storeReads(b)
        for _ in 0..<5 {
            #expect(await GatewayHarness.send(b, "/forum/x", headers: key).status == 200)
        }
        #expect(Self.storeReads(b) == readsAfterFirst, "a cached session costs no store read for TykGetKeyData or auth")

        // Node A expires the key; node B's hook must see that (and renew),
        // not its cached valid copy — else auth would answer 401.
        let expired = Fixture.session(expires: a.now - 10, api: "forum-api")
        #expect(await a.createKey("coherent-key", expired).status == 200)
        let renewed = await GatewayHarness.send(b, "/forum/x", headers: key)
        #expect(renewed.status == 200, "\(String(decoding: renewed.body, as: UTF8.self))")
        let stored = try await a.gateway.services.sessions.keyData(key: "coherent-key")
        #expect((stored?.session.expires ?? 0) > a.now, "node B's hook saw the expired session and renewed it")

        await b.shutdown()
        await a.close()
    }
}
