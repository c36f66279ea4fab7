import Foundation
import PortcullisGateway
import PortcullisSessions
import PortcullisTestSupport
import Testing

/// Revoking every key of an org or alias on one node is visible on every
/// node when the call returns, even where the keys were cached.
@Suite("Bulk revocation", .serialized)
struct BulkRevocationTests {
    static func session(org: String, alias: String, expires: Int64) -> String {
        """
        {"org_id": "\(org)", "alias": "\(alias)", "expires": \(expires), "quota_max": -1,
         "access_rights": {"plain": {"api_id": "plain", "api_name": "plain", "versions": ["Default"]}}}
        """
    }

    @Test("DELETE /tyk/keys?org_id= and ?alias= on node A: node B refuses those keys at once and serves the rest")
    func acrossTwoNodes() async throws {
        let redis = try RedisServer()
        func store() -> RedisStore { RedisStore(configuration: RedisConfiguration(port: redis.port)) }
        let a = try await GatewayHarness.make(files: ["apps/plain.json": Fixture.tokenAPI(id: "plain", listen: "/plain/")], store: store())
        let b = try await a.secondNode(store: store())
        let admin = [("x-tyk-authorization", GatewayHarness.secret)]
        let keys: [(String, String, String)] = [
            ("acme-1", "acme", "alice"), ("acme-2", "acme", "bob"), ("acme-3", "acme", "carol"),
            ("globex-1", "globex", "alice"), ("globex-2", "globex", "dave"),
        ]
        for (key, org, alias) in keys {
            #expect(await a.createKey(key, Self.session(org: org, alias: alias, expires: a.now + 3600)).status == 200)
        }
        // Warm node B's cache with every key.
        for (key, _, _) in keys {
            #expect(await GatewayHarness.send(b, "/plain/x", headers: [("Authorization", key)]).status == 200)
            #expect(await GatewayHarness.send(b, "/plain/x", headers: [("Authorization", key)]).status == 200)
        }
        #expect(b.services.sessions.cachedSessionCount == keys.count)

        let byOrg = await a.send("/tyk/keys?org_id=acme", method: "DELETE", headers: admin)
        #expect(byOrg.status == 200, "\(byOrg.text)")
        #expect(byOrg.json?["revoked"] as? Int == 3)
        for (key, org, _) in keys {
            let status = await GatewayHarness.send(b, "/plain/x", headers: [("Authorization", key)]).status
            #expect(status == (org == "acme" ? 403 : 200), "\(key) on node B: \(status)")
        }

        let byAlias = await a.send("/tyk/keys?alias=alice", method: "DELETE", headers: admin)
        #expect(byAlias.json?["revoked"] as? Int == 1)
        #expect(await GatewayHarness.send(b, "/plain/x", headers: [("Authorization", "globex-1")]).status == 403)
        #expect(await GatewayHarness.send(b, "/plain/x", headers: [("Authorization", "globex-2")]).status == 200)

        let none = await a.send("/tyk/keys?org_id=nobody", method: "DELETE", headers: admin)
        #expect(none.json?["revoked"] as? Int == 0)
        let unfiltered = await a.send("/tyk/keys", method: "DELETE", headers: admin)
        #expect(unfiltered.status == 400)
        #expect(unfiltered.text.contains("org_id or alias"))
        let unauthorised = await a.send("/tyk/keys?org_id=globex", method: "DELETE")
        #expect(unauthorised.status == 403)
        #expect(await GatewayHarness.send(b, "/plain/x", headers: [("Authorization", "globex-2")]).status == 200)
        let metrics = await GatewayHarness.send(a.gateway, "/metrics").text
        #expect(metrics.contains("portcullis_keys_revoked_total 4"), "\(metrics)")
        await b.shutdown()
        await a.close()
        redis.kill()
    }
}
