import Foundation
import PortcullisGateway
import Testing

/// The failure that Portcullis exists to prevent (seeds 002/003): a pre
/// hook renews an expired key and the same request is still refused.
@Suite("Forum race: renewal in a pre hook", .serialized)
struct ForumRaceTests {
    private func harness() async throws -> GatewayHarness {
        try await GatewayHarness.make(files: [
            "apps/plain.json": Fixture.tokenAPI(id: "plain", listen: "/plain/", header: "x-session-key"),
            "apps/forum.json": Fixture.tokenAPI(id: "forum-api", listen: "/forum/", header: "x-session-key",
                                                pre: [("forumRenewal", "forum-renewal.js")]),
            "forum-renewal.js": try Fixture.forumRenewal,
        ])
    }

    @Test("Without a renewal hook an expired key gets 401 \"Key has expired, please renew\"")
    func expiredWithoutHook() async throws {
        let h = try await harness()
        await h.createKey("k-plain", Fixture.session(expires: h.now + 60, api: "plain"))
        #expect(await h.send("/plain/x", headers: [("x-session-key", "k-plain")]).status == 200)
        h.clock.advance(by: 61)
        let refused = await h.send("/plain/x", headers: [("x-session-key", "k-plain")])
        #expect(refused.status == 401)
        #expect(refused.json?["error"] as? String == "Key has expired, please renew")
        await h.close()
    }

    @Test("Renewal exactly at expiry: the request that renews is served, with the stale session still cached")
    func renewAtExpiry() async throws {
        let h = try await harness()
        await h.createKey("key-1", Fixture.session(expires: h.now + 60, api: "forum-api"))
        // Warm the node-local cache with the session that is about to expire.
        let warm = await h.send("/forum/a", headers: [("x-session-key", "key-1")])
        #expect(warm.status == 200, "warm: \(warm.text)")
        h.clock.advance(by: 60)
        let before = h.upstream.requestCount
        let renewed = await h.send("/forum/a", headers: [("x-session-key", "key-1")])
        #expect(renewed.status == 200, "body: \(renewed.text)")
        #expect(h.upstream.requestCount == before + 1)
        #expect(await h.session("key-1")?["expires"] as? Int64 == h.now + 60)
        await h.close()
    }

    @Test("Expired for more than 24 hours, then renewed by the pre hook: served at once")
    func expiredForADay() async throws {
        let h = try await harness()
        await h.createKey("key-2", Fixture.session(expires: h.now + 60, api: "forum-api"))
        #expect(await h.send("/forum/a", headers: [("x-session-key", "key-2")]).status == 200)
        h.clock.advance(by: 86_400 + 120)
        for round in 0..<5 {
            let response = await h.send("/forum/a", headers: [("x-session-key", "key-2")])
            #expect(response.status == 200, "round \(round): \(response.text)")
            h.clock.advance(by: 61)
        }
        await h.close()
    }

    @Test("A key that does not exist yet is created by the pre hook and the same request is served")
    func missingKeyCreated() async throws {
        let h = try await harness()
        let response = await h.send("/forum/a", headers: [("x-session-key", "brand-new-key")])
        #expect(response.status == 200, "body: \(response.text)")
        #expect(await h.session("brand-new-key")?["expires"] as? Int64 == h.now + 60)
        await h.close()
    }

    @Test("Concurrent requests renewing the same key are all served and the newest renewal stays")
    func concurrentRenewals() async throws {
        let h = try await harness()
        await h.createKey("key-3", Fixture.session(expires: h.now + 60, api: "forum-api"))
        h.clock.advance(by: 120)
        let statuses = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<32 {
                group.addTask { await h.send("/forum/a", headers: [("x-session-key", "key-3")]).status }
            }
            var collected: [Int] = []
            for await status in group { collected.append(status) }
            return collected
        }
        #expect(statuses.count == 32)
        #expect(statuses.allSatisfy { $0 == 200 }, "statuses: \(statuses)")
        #expect(await h.session("key-3")?["expires"] as? Int64 == h.now + 60)
        await h.close()
    }
}
