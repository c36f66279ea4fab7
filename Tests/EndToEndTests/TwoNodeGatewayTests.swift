import Foundation
import PortcullisGateway
import PortcullisSessions
import PortcullisTestSupport
import Testing

/// Two gateway nodes sharing one real redis-server, each with its local
/// session cache on.
@Suite("Two gateway nodes on Redis", .serialized)
struct TwoNodeGatewayTests {
    static let renewPlugin = """
    var renew = new TykJS.TykMiddleware.NewMiddleware({});
    renew.NewProcessRequest(function (request, session, config) {
      var key = request.Headers["Authorization"][0];
      var stored = JSON.parse(TykGetKeyData(key, config.APIID));
      var now = Math.floor(Date.now() / 1000);
      if (stored.status === "error" || stored.expires <= now) {
        TykSetKeyData(key, JSON.stringify({expires: now + 60,
          access_rights: {"renewing": {api_id: "renewing"}, "plain": {api_id: "plain"}}}));
        TykStorageIncr("renewals", 0);
      }
      return renew.ReturnData(request, {});
    });
    """

    @Test("A renewal made by a plugin on node A is honoured by node B's next request, 100 rounds; deletion on A is refused on B at once")
    func renewalAcrossNodes() async throws {
        let redis = try RedisServer()
        func store() -> RedisStore { RedisStore(configuration: RedisConfiguration(port: redis.port)) }
        let a = try await GatewayHarness.make(files: [
            "apps/renewing.json": Fixture.tokenAPI(id: "renewing", listen: "/renew/", pre: [("renew", "renew.js")]),
            "apps/plain.json": Fixture.tokenAPI(id: "plain", listen: "/plain/"),
            "renew.js": Self.renewPlugin,
        ], store: store())
        let b = try await a.secondNode(store: store())
        let key = [("Authorization", "shared-key")]
        var failures: [String] = []
        for round in 0..<100 {
            a.clock.advance(by: 61)
            let renewed = await a.send("/renew/x", headers: key)
            if renewed.status != 200 { failures.append("round \(round) A: \(renewed.status) \(renewed.text)") }
            let onB = await GatewayHarness.send(b, "/plain/x", headers: key)
            if onB.status != 200 { failures.append("round \(round) B: \(onB.status) \(onB.text)") }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        let renewals = try await store().value(forKey: "jsvm-store:renewals")
        #expect(renewals == "100")

        let deleted = await a.send("/tyk/keys/shared-key", method: "DELETE", headers: [("x-tyk-authorization", GatewayHarness.secret)])
        #expect(deleted.status == 200)
        let refused = await GatewayHarness.send(b, "/plain/x", headers: key)
        #expect(refused.status == 403)
        await b.shutdown()
        await a.close()
        redis.kill()
    }

    @Test("With Redis stopped, requests that need the store fail closed with 503 and a JSON error")
    func failClosed() async throws {
        let redis = try RedisServer()
        let a = try await GatewayHarness.make(files: [
            "apps/plain.json": Fixture.tokenAPI(id: "plain", listen: "/plain/"),
        ], store: RedisStore(configuration: RedisConfiguration(port: redis.port)))
        await a.createKey("store-key", Fixture.session(expires: 0, api: "plain"))
        redis.kill()
        let started = ContinuousClock.now
        let response = await a.send("/plain/x", headers: [("Authorization", "unknown-key")])
        #expect(response.status == 503, "\(response.text)")
        #expect(response.json?["error"] as? String == "Session store unavailable, please retry")
        #expect(ContinuousClock.now - started < .seconds(10))
        await a.close()
    }
}
