import Foundation
import PortcullisGateway
import Testing

@Suite("Gateway pipeline", .serialized)
struct GatewayPipelineTests {
    static let overridePlugin = """
    var guard = new TykJS.TykMiddleware.NewMiddleware({});
    guard.NewProcessRequest(function (request, session, config) {
      if (request.Headers["X-Block"]) {
        request.ReturnOverrides.ResponseCode = 418;
        request.ReturnOverrides.ResponseError = "blocked by plugin";
        request.ReturnOverrides.ResponseHeaders = {"X-Why": "block"};
      } else if (request.Headers["X-Raw"]) {
        request.ReturnOverrides.ResponseCode = 202;
        request.ReturnOverrides.ResponseBody = "raw answer";
      } else if (request.Headers["X-Throw"]) {
        throw new Error("plugin exploded");
      }
      return guard.ReturnData(request, {});
    });
    """

    private func harness() async throws -> GatewayHarness {
        try await GatewayHarness.make(files: [
            "apps/open.json": Fixture.keylessAPI(id: "open", listen: "/open/", pre: [("headerInjection", "inject.js"), ("guard", "guard.js")]),
            "apps/token.json": Fixture.tokenAPI(id: "token", listen: "/token/"),
            "apps/other.json": Fixture.tokenAPI(id: "other", listen: "/other/"),
            "apps/broken.json": #"{"api_id": "broken", "proxy": {"listen_path": 42}}"#,
            "inject.js": try String(contentsOf: CommandLineTool.repositoryRoot.appendingPathComponent("plugins/header-injection.js"), encoding: .utf8),
            "guard.js": Self.overridePlugin,
        ])
    }

    @Test("A keyless API proxies with the pre hook's headers and params, listen path stripped")
    func keylessProxy() async throws {
        let h = try await harness()
        let response = await h.send("/open/items?page=2", headers: [("X-Internal-Debug", "1"), ("Accept", "*/*")])
        #expect(response.status == 200, "body: \(response.text)")
        let echo = try #require(response.json)
        let headers = try #require(echo["headers"] as? [String: String])
        #expect(echo["uri"] as? String == "/echo/items?page=2&via=portcullis")
        #expect(headers["x-portcullis-pre"] == "injected")
        #expect(headers["x-team"] == "platform")
        #expect(headers["x-internal-debug"] == nil)
        await h.close()
    }

    @Test("ReturnOverrides: 4xx becomes Tyk's error body, lower codes are sent raw, exceptions are 500")
    func overrides() async throws {
        let h = try await harness()
        let before = h.upstream.requestCount
        let blocked = await h.send("/open/x", headers: [("X-Block", "1")])
        #expect(blocked.status == 418)
        #expect(blocked.json?["error"] as? String == "blocked by plugin")
        #expect(blocked.headers.first("X-Why") == "block")
        let raw = await h.send("/open/x", headers: [("X-Raw", "1")])
        #expect(raw.status == 202)
        #expect(raw.text == "raw answer")
        let thrown = await h.send("/open/x", headers: [("X-Throw", "1")])
        #expect(thrown.status == 500)
        #expect(thrown.json?["error"] as? String == "Internal Server Error")
        #expect(h.upstream.requestCount == before)
        #expect(await h.send("/open/x").status == 200)
        await h.close()
    }

    @Test("Token auth answers with Tyk's statuses and messages")
    func tokenAuthErrors() async throws {
        let h = try await harness()
        await h.createKey("good-key", Fixture.session(expires: h.now + 100, api: "token"))
        await h.createKey("other-key", Fixture.session(expires: 0, api: "other"))
        await h.createKey("old-key", Fixture.session(expires: h.now - 1, api: "token"))
        let cases: [([(String, String)], Int, String?)] = [
            ([], 401, "Authorization field missing"),
            ([("Authorization", "unknown-key")], 403, "Access to this API has been disallowed"),
            ([("Authorization", "other-key")], 403, "Access to this API has been disallowed"),
            ([("Authorization", "old-key")], 401, "Key has expired, please renew"),
            ([("Authorization", "Bearer good-key")], 200, nil),
        ]
        for (headers, status, message) in cases {
            let response = await h.send("/token/x", headers: headers)
            #expect(response.status == status, "\(headers): \(response.text)")
            if let message { #expect(response.json?["error"] as? String == message) }
        }
        await h.close()
    }

    @Test("Inactive keys get 403, deleted keys 403 at once, and quota and rate limits apply")
    func limitsAndRevocation() async throws {
        let h = try await harness()
        await h.createKey("quota-key", Fixture.session(expires: 0, api: "token", quota: 2))
        #expect(await h.send("/token/x", headers: [("Authorization", "quota-key")]).status == 200)
        #expect(await h.send("/token/x", headers: [("Authorization", "quota-key")]).status == 200)
        let over = await h.send("/token/x", headers: [("Authorization", "quota-key")])
        #expect(over.status == 403)
        #expect(over.json?["error"] as? String == "Quota exceeded")

        await h.createKey("rate-key", Fixture.session(expires: 0, api: "token", rate: 3, per: 60))
        var statuses: [Int] = []
        for _ in 0..<5 { statuses.append(await h.send("/token/x", headers: [("Authorization", "rate-key")]).status) }
        #expect(statuses == [200, 200, 200, 429, 429])

        await h.createKey("gone-key", Fixture.session(expires: 0, api: "token"))
        #expect(await h.send("/token/x", headers: [("Authorization", "gone-key")]).status == 200)
        let deleted = await h.send("/tyk/keys/gone-key", method: "DELETE", headers: [("x-tyk-authorization", GatewayHarness.secret)])
        #expect(deleted.json?["action"] as? String == "deleted")
        #expect(await h.send("/token/x", headers: [("Authorization", "gone-key")]).status == 403)

        var inactive = try #require(try JSONSerialization.jsonObject(with: Data(Fixture.session(expires: 0, api: "token").utf8)) as? [String: Any])
        inactive["is_inactive"] = true
        await h.createKey("sleepy-key", String(decoding: try JSONSerialization.data(withJSONObject: inactive), as: UTF8.self))
        let sleepy = await h.send("/token/x", headers: [("Authorization", "sleepy-key")])
        #expect(sleepy.status == 403)
        #expect(sleepy.json?["error"] as? String == "Key is inactive, please renew")
        await h.close()
    }

    @Test("A malformed API definition is refused with file and field; the others serve")
    func badDefinition() async throws {
        let h = try await harness()
        let failures = h.gateway.lastLoadFailures
        #expect(failures.count == 1)
        #expect(failures.first?.contains("broken.json: field proxy.listen_path: must be a string") == true, "\(failures)")
        #expect(Set(h.gateway.loadedAPIs.map(\.apiID)) == ["open", "token", "other"])
        await h.close()
    }

    @Test("The admin API refuses without the secret and manages keys with it")
    func adminAPI() async throws {
        let h = try await harness()
        let noSecret = await h.send("/tyk/keys/any", method: "GET")
        #expect(noSecret.status == 403)
        let wrong = await h.send("/tyk/keys/any", method: "GET", headers: [("x-tyk-authorization", "nope")])
        #expect(wrong.status == 403)
        let created = await h.send("/tyk/keys", method: "POST", headers: [("x-tyk-authorization", GatewayHarness.secret)],
                                   body: Fixture.session(expires: 0, api: "token"))
        let key = try #require(created.json?["key"] as? String)
        #expect(created.json?["action"] as? String == "added")
        #expect(await h.send("/token/x", headers: [("Authorization", key)]).status == 200)
        let updated = await h.send("/tyk/keys/\(key)", method: "PUT", headers: [("x-tyk-authorization", GatewayHarness.secret)],
                                   body: Fixture.session(expires: h.now - 5, api: "token"))
        #expect(updated.json?["action"] as? String == "modified")
        #expect(await h.send("/token/x", headers: [("Authorization", key)]).status == 401)
        let missing = await h.send("/tyk/keys/not-there", method: "GET", headers: [("x-tyk-authorization", GatewayHarness.secret)])
        #expect(missing.status == 404)
        let bad = await h.send("/tyk/keys/x-key", method: "POST", headers: [("x-tyk-authorization", GatewayHarness.secret)], body: #"{"expires": 1.5}"#)
        #expect(bad.status == 400)
        #expect((bad.json?["message"] as? String)?.contains("expires") == true)
        let hello = await h.send("/hello", method: "GET")
        #expect(hello.json?["status"] as? String == "pass")
        let reload = await h.send("/tyk/reload", method: "POST", headers: [("x-tyk-authorization", GatewayHarness.secret)])
        #expect(reload.json?["status"] as? String == "ok")
        #expect(await h.send("/open/x").status == 200)
        await h.close()
    }

    @Test("Unknown paths get 404 with a JSON error")
    func unknownPath() async throws {
        let h = try await harness()
        let response = await h.send("/nowhere/x")
        #expect(response.status == 404)
        #expect(response.json?["error"] != nil)
        await h.close()
    }
}
