import AsyncHTTPClient
import Foundation
import JWTKit
import NIOCore
import NIOHTTP1
import PortcullisCore
import PortcullisGateway
import PortcullisScenarios
import PortcullisSessions
import PortcullisTestSupport
import Testing

/// Security policies over real sockets: keys that carry only
/// `apply_policies` get the policies' rights, rate, quota and state, as
/// Tyk's `Apply` computes them, on the memory store and on Redis.
@Suite("Security policies", .serialized)
struct SecurityPolicyTests {
    enum StoreKind: String, CaseIterable, Sendable { case memory, redis }

    /// Two token APIs (`/a/`, `/b/`) and a virtual endpoint on `/a/keydata`
    /// that answers what `TykGetKeyData` shows for the caller's key.
    static func files(policies: String) -> [String: String] {
        let keyData = #"""
        function keyData(request, session, config) {
          var key = request.Headers["Authorization"][0];
          return TykJsResponse({Body: TykGetKeyData(key, config.APIID), Code: 200, Headers: {"Content-Type": "application/json"}}, session.meta_data);
        }
        """#
        let virtual = #", "version_data": {"versions": {"Default": {"extended_paths": {"virtual": [{"response_function_name": "keyData", "function_source_type": "file", "function_source_uri": "{{dir}}/keydata.js", "path": "/keydata", "method": "GET"}]}}}}"#
        return [
            "apps/a.json": Fixture.tokenAPI(id: "api-a", listen: "/a/", extra: virtual),
            "apps/b.json": Fixture.tokenAPI(id: "api-b", listen: "/b/"),
            "keydata.js": keyData,
            "policies.json": policies,
        ]
    }

    static let policies = #"""
    {
      "gold": {"name": "Gold", "org_id": "org", "rate": 100, "per": 60, "quota_max": 3, "quota_renewal_rate": 3600,
               "tags": ["gold"], "meta_data": {"tier": "gold"},
               "access_rights": {"api-a": {"api_id": "api-a", "api_name": "A", "versions": ["Default"]}}},
      "acl-b": {"org_id": "org", "partitions": {"acl": true},
                "access_rights": {"api-b": {"api_id": "api-b", "versions": ["Default"]}}},
      "quota-two": {"org_id": "org", "partitions": {"quota": true}, "quota_max": 2, "quota_renewal_rate": 3600,
                    "access_rights": {"api-b": {"api_id": "api-b", "versions": ["Default"]}}},
      "rate-one": {"org_id": "org", "partitions": {"rate_limit": true}, "rate": 1, "per": 60,
                   "access_rights": {"api-b": {"api_id": "api-b", "versions": ["Default"]}}},
      "frozen": {"org_id": "org", "is_inactive": true,
                 "access_rights": {"api-a": {"api_id": "api-a", "versions": ["Default"]}}},
      "elsewhere": {"org_id": "other-org", "access_rights": {"api-a": {"api_id": "api-a", "versions": ["Default"]}}},
      "per-api": {"org_id": "org", "partitions": {"per_api": true}, "quota_max": 5, "quota_renewal_rate": 3600,
                  "access_rights": {"api-a": {"api_id": "api-a", "versions": ["Default"], "limit": {"quota_max": 1, "quota_renewal_rate": 3600}},
                                    "api-b": {"api_id": "api-b", "versions": ["Default"]}}}
    }
    """#

    /// A gateway on `kind` serving over a real socket, with a client.
    struct Node {
        let harness: GatewayHarness
        let client: HTTPClient
        let port: Int
        let logs: LogBook

        func get(_ path: String, key: String? = nil) async throws -> (status: Int, body: String) {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
            if let key { request.headers.add(name: "Authorization", value: key.contains(".") ? "Bearer \(key)" : key) }
            let response = try await client.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), String(buffer: body))
        }

        func admin(_ method: HTTPMethod, _ path: String, body: String = "") async throws -> (status: Int, body: String) {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
            request.method = method
            request.headers.add(name: "x-tyk-authorization", value: GatewayHarness.secret)
            if !body.isEmpty { request.body = .bytes(ByteBuffer(string: body)) }
            let response = try await client.execute(request, timeout: .seconds(10))
            let text = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), String(buffer: text))
        }

        func createKey(_ key: String, _ session: String) async throws {
            let answer = try await admin(.POST, "/tyk/keys/\(key)", body: session)
            #expect(answer.status == 200, "create \(key): \(answer.body)")
        }

        static func error(_ body: String) -> String? {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["error"] as? String
        }

        static func object(_ body: String) -> [String: Any] {
            ((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]) ?? [:]
        }
    }

    static func withNode(_ kind: StoreKind, policies: String = SecurityPolicyTests.policies, extraFiles: [String: String] = [:],
                         _ body: (Node) async throws -> Void) async throws {
        let redis = kind == .redis ? try RedisServer() : nil
        let store: (any SessionStore)? = redis.map { RedisStore(configuration: RedisConfiguration(port: $0.port)) }
        let logs = LogBook()
        var policyFile = ""
        let h = try await GatewayHarness.make(files: files(policies: policies).merging(extraFiles) { $1 }, store: store, logs: logs) { config in
            config.policies.recordName = config.appPath.replacingOccurrences(of: "/apps", with: "/policies.json")
            policyFile = config.policies.recordName
        }
        #expect(FileManager.default.fileExists(atPath: policyFile))
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await h.withServer { port in
                try await body(Node(harness: h, client: client, port: port, logs: logs))
            }
        } catch {
            try? await client.shutdown()
            await h.close()
            throw error
        }
        try await client.shutdown()
        await h.close()
        _ = redis
    }

    @Test("A key with only apply_policies gets the policy's rights, quota and tags; GET /tyk/keys shows them", arguments: StoreKind.allCases)
    func policyOnlyKey(kind: StoreKind) async throws {
        try await Self.withNode(kind) { node in
            try await node.createKey("gold-key", #"{"org_id": "org", "apply_policies": ["gold"]}"#)
            for index in 1...3 {
                let answer = try await node.get("/a/x", key: "gold-key")
                #expect(answer.status == 200, "request \(index): \(answer.body)")
            }
            let fourth = try await node.get("/a/x", key: "gold-key")
            #expect(fourth.status == 403)
            #expect(Node.error(fourth.body) == "Quota exceeded")
            let other = try await node.get("/b/x", key: "gold-key")
            #expect(other.status == 403)
            #expect(Node.error(other.body) == "Access to this API has been disallowed", "the policy does not grant api-b")

            let shown = Node.object(try await node.admin(.GET, "/tyk/keys/gold-key").body)
            #expect((shown["access_rights"] as? [String: Any])?.keys.sorted() == ["api-a"])
            #expect(shown["quota_max"] as? Int == 3)
            #expect(shown["rate"] as? Int == 100)
            #expect(shown["tags"] as? [String] == ["gold"])
            #expect((shown["meta_data"] as? [String: Any])?["tier"] as? String == "gold")
            #expect(shown["quota_remaining"] as? Int == 0, "three of three used")
            // The stored record keeps what was written: no policy values baked in.
            let stored = try await node.harness.gateway.services.sessions.keyData(key: "gold-key")
            #expect(stored?.session.accessRights.isEmpty == true)
            #expect(stored?.session.quotaMax == 0)
        }
    }

    @Test("Two partitioned policies: one grants the API, one sets its quota; a third sets its rate", arguments: StoreKind.allCases)
    func partitionedPolicies(kind: StoreKind) async throws {
        try await Self.withNode(kind) { node in
            try await node.createKey("split-key", #"{"org_id": "org", "apply_policies": ["acl-b", "quota-two"]}"#)
            #expect(try await node.get("/b/x", key: "split-key").status == 200)
            #expect(try await node.get("/b/x", key: "split-key").status == 200)
            let third = try await node.get("/b/x", key: "split-key")
            #expect(third.status == 403)
            #expect(Node.error(third.body) == "Quota exceeded")
            #expect(try await node.get("/a/x", key: "split-key").status == 403, "neither policy grants api-a")

            try await node.createKey("rated-key", #"{"org_id": "org", "apply_policies": ["acl-b", "rate-one"]}"#)
            #expect(try await node.get("/b/x", key: "rated-key").status == 200)
            let limited = try await node.get("/b/x", key: "rated-key")
            #expect(limited.status == 429, "1 request per 60 s from the rate partition: \(limited.body)")
            #expect(Node.error(limited.body) == "Rate Limit Exceeded")
        }
    }

    @Test("A per_api policy gives each API its own limit and counter", arguments: StoreKind.allCases)
    func perAPIPolicy(kind: StoreKind) async throws {
        try await Self.withNode(kind) { node in
            try await node.createKey("per-api-key", #"{"org_id": "org", "apply_policies": ["per-api"]}"#)
            #expect(try await node.get("/a/x", key: "per-api-key").status == 200)
            #expect(try await node.get("/a/x", key: "per-api-key").status == 403, "api-a's own limit is 1")
            for index in 1...5 {
                #expect(try await node.get("/b/x", key: "per-api-key").status == 200, "api-b counts on its own: \(index)")
            }
            #expect(try await node.get("/b/x", key: "per-api-key").status == 403, "api-b has the policy's quota of 5")
            let counters = try await node.harness.gateway.services.store.value(forKey: "quota-api-a-per-api-key")
            #expect(counters == "2", "api-a's counter is scoped to api-a")
        }
    }

    @Test("An inactive policy, an unknown policy and another organisation's policy refuse the key; the log names the policy")
    func refusingPolicies() async throws {
        try await Self.withNode(.memory) { node in
            try await node.createKey("frozen-key", #"{"org_id": "org", "apply_policies": ["frozen"]}"#)
            let frozen = try await node.get("/a/x", key: "frozen-key")
            #expect(frozen.status == 403)
            #expect(Node.error(frozen.body) == "Key is inactive, please renew")

            for (key, policy) in [("ghost-key", "no-such-policy"), ("foreign-key", "elsewhere")] {
                try await node.createKey(key, #"{"org_id": "org", "apply_policies": ["\#(policy)"]}"#)
                let mark = node.logs.count
                let answer = try await node.get("/a/x", key: key)
                #expect(answer.status == 403, "\(policy): \(answer.body)")
                #expect(Node.error(answer.body) == "Access to this API has been disallowed")
                let lines = node.logs.since(mark).filter { $0.level >= .error }
                #expect(lines.contains { $0.metadata["policy_id"] == policy && $0.text.contains(policy) }, "\(lines.map(\.text))")
            }
            // Several policies where one is unknown: refused, never the known one's rights alone.
            try await node.createKey("mixed-key", #"{"org_id": "org", "apply_policies": ["gold", "no-such-policy"]}"#)
            #expect(try await node.get("/a/x", key: "mixed-key").status == 403)
            #expect(node.harness.upstream.requestCount == 0, "no refused key reached the upstream")
        }
    }

    @Test("A policy change is picked up on reload; GET /tyk/policies shows the loaded set", arguments: StoreKind.allCases)
    func reloadPicksUpChanges(kind: StoreKind) async throws {
        try await Self.withNode(kind) { node in
            try await node.createKey("gold-key", #"{"org_id": "org", "apply_policies": ["gold"]}"#)
            #expect(try await node.get("/b/x", key: "gold-key").status == 403)
            let listed = try await node.admin(.GET, "/tyk/policies")
            let ids = ((try? JSONSerialization.jsonObject(with: Data(listed.body.utf8))) as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(ids == ["acl-b", "elsewhere", "frozen", "gold", "per-api", "quota-two", "rate-one"])
            #expect(Node.object(try await node.admin(.GET, "/tyk/policies/gold").body)["quota_max"] as? Int == 3)
            #expect(try await node.admin(.GET, "/tyk/policies/nope").status == 404)

            // Gold now grants api-b as well, with a larger quota; one entry is broken.
            let changed = Self.policies
                .replacingOccurrences(of: #""quota_max": 3"#, with: #""quota_max": 50"#)
                .replacingOccurrences(of: #""access_rights": {"api-a": {"api_id": "api-a", "api_name": "A", "versions": ["Default"]}}"#,
                                      with: #""access_rights": {"api-a": {"api_id": "api-a", "versions": ["Default"]}, "api-b": {"api_id": "api-b", "versions": ["Default"]}}"#)
                .replacingOccurrences(of: #""rate": 1, "per": 60"#, with: #""rate": "fast", "per": 60"#)
            try changed.write(toFile: node.harness.config.policies.recordName, atomically: true, encoding: .utf8)
            let reload = Node.object(try await node.admin(.GET, "/tyk/reload").body)
            let refused = reload["refused"] as? [String] ?? []
            #expect(refused.count == 1 && refused[0].contains("rate-one.rate"), "\(refused)")
            #expect(try await node.get("/b/x", key: "gold-key").status == 200, "the reloaded policy grants api-b")
            #expect(Node.object(try await node.admin(.GET, "/tyk/keys/gold-key").body)["quota_max"] as? Int == 50)
            #expect(Node.object(try await node.admin(.GET, "/tyk/policies/rate-one").body)["rate"] as? Int == 1,
                    "a refused entry keeps its previous version")
        }
    }

    @Test("TykGetKeyData in a plugin shows the session with its policies applied", arguments: StoreKind.allCases)
    func pluginSeesAppliedPolicies(kind: StoreKind) async throws {
        try await Self.withNode(kind) { node in
            try await node.createKey("gold-key", #"{"org_id": "org", "apply_policies": ["gold"], "meta_data": {"own": 1}}"#)
            let answer = try await node.get("/a/keydata", key: "gold-key")
            #expect(answer.status == 200, "\(answer.body)")
            let shown = Node.object(answer.body)
            #expect((shown["access_rights"] as? [String: Any])?.keys.sorted() == ["api-a"])
            #expect(shown["quota_max"] as? Int == 3)
            #expect(shown["apply_policies"] as? [String] == ["gold"])
            let meta = shown["meta_data"] as? [String: Any]
            #expect(meta?["tier"] as? String == "gold" && meta?["own"] as? Int == 1)
        }
    }

    @Test("A new key under a policy with key_expires_in gets its trial period; an update keeps the expiry")
    func trialPeriodOnCreate() async throws {
        let trial = Self.policies.replacingOccurrences(of: #""tags": ["gold"]"#, with: #""tags": ["gold"], "key_expires_in": 120"#)
        try await Self.withNode(.memory, policies: trial) { node in
            let now = node.harness.now
            try await node.createKey("trial-key", #"{"org_id": "org", "apply_policies": ["gold"]}"#)
            #expect(Node.object(try await node.admin(.GET, "/tyk/keys/trial-key").body)["expires"] as? Int == Int(now + 120))
            node.harness.clock.advance(by: 60)
            try await node.createKey("trial-key", #"{"org_id": "org", "apply_policies": ["gold"], "expires": \#(now + 120)}"#)
            #expect(Node.object(try await node.admin(.GET, "/tyk/keys/trial-key").body)["expires"] as? Int == Int(now + 120))
            node.harness.clock.advance(by: 61)
            let expired = try await node.get("/a/x", key: "trial-key")
            #expect(expired.status == 401)
            #expect(Node.error(expired.body) == "Key has expired, please renew")
        }
    }

    @Test("policy_path: one policy per file; a bad file is refused naming the file and field, the others load; the file name is the fallback id")
    func policyFolder() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-policies-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try #"{"id": "gold", "org_id": "org", "quota_max": 3, "access_rights": {"api-a": {"api_id": "api-a"}}}"#
            .write(to: folder.appendingPathComponent("gold.json"), atomically: true, encoding: .utf8)
        try #"{"org_id": "org", "access_rights": {"api-b": {"api_id": "api-b"}}}"#
            .write(to: folder.appendingPathComponent("silver.json"), atomically: true, encoding: .utf8)
        try #"{"id": "broken", "org_id": "org", "partitions": {"quota": "yes"}}"#
            .write(to: folder.appendingPathComponent("broken.json"), atomically: true, encoding: .utf8)
        try "{not json".write(to: folder.appendingPathComponent("garbled.json"), atomically: true, encoding: .utf8)
        try "ignored".write(to: folder.appendingPathComponent("README.txt"), atomically: true, encoding: .utf8)
        var source = PolicySourceConfig()
        source.path = folder.path
        source.recordName = "/nonexistent/ignored-when-policy_path-is-set.json"
        let result = PolicyLoader(source: source).load()
        #expect(result.policies.map(\.policy.id) == ["gold", "silver"])
        let messages = result.failures.map(\.error.description)
        #expect(messages.count == 2, "\(messages)")
        #expect(messages.contains { $0.contains("broken.json") && $0.contains("partitions.quota") && $0.contains("a boolean") }, "\(messages)")
        #expect(messages.contains { $0.contains("garbled.json") && $0.contains("not valid JSON") }, "\(messages)")
        #expect(result.failures.first { $0.error.description.contains("broken.json") }?.policyID == "broken")

        let registry = PolicyRegistry()
        registry.install(result)
        #expect(registry.current.sortedIDs == ["gold", "silver"])
        // gold's file breaks on the next load: its previous version stays; a removed file's policy goes.
        try #"{"id": "gold", "quota_max": "three"}"#.write(to: folder.appendingPathComponent("gold.json"), atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("silver.json"))
        let refused = registry.install(PolicyLoader(source: source).load())
        #expect(refused.contains { $0.contains("gold.json") && $0.contains("quota_max") }, "\(refused)")
        #expect(registry.current.sortedIDs == ["gold"])
        #expect(registry.current["gold"]?.quotaMax == 3)
    }

    /// An HS256 JWT API whose subjects get sessions from `jwt_default_policies`.
    static let jwtFiles = [
        "apps/jwt.json": #"""
        {"name": "jwt", "api_id": "jwt-api", "org_id": "org", "active": true, "enable_jwt": true,
         "jwt_signing_method": "hmac", "jwt_source": "\#(Data("shared-secret-that-is-at-least-32-bytes".utf8).base64EncodedString())",
         "jwt_default_policies": ["trial"], "jwt_policy_field_name": "pol",
         "proxy": {"listen_path": "/jwt/", "target_url": "{{upstream}}/echo", "strip_listen_path": true}}
        """#,
    ]

    static let jwtPolicies = #"""
    {
      "trial": {"org_id": "org", "key_expires_in": 60, "quota_max": 10, "quota_renewal_rate": 86400,
                "access_rights": {"jwt-api": {"api_id": "jwt-api", "versions": ["Default"]}}},
      "premium": {"org_id": "org", "quota_max": 100, "quota_renewal_rate": 86400,
                  "access_rights": {"jwt-api": {"api_id": "jwt-api", "versions": ["Default"]}}}
    }
    """#

    static func token(_ claims: JWTAuthTests.Claims) async throws -> String {
        try await JWTAuthTests.sign(claims)
    }

    @Test("JWT default policies: a new subject's session comes from the trial policy; when the trial ends the valid token gets seed 002's 401; a token with exp renews it and the quota carries over",
          arguments: StoreKind.allCases)
    func jwtTrialPeriod(kind: StoreKind) async throws {
        try await Self.withNode(kind, policies: Self.jwtPolicies, extraFiles: Self.jwtFiles) { node in
            let now = node.harness.now
            // A token without exp is valid for as long as its signature is.
            let noExpiry = try await Self.token(.init(sub: "dave"))
            #expect(try await node.get("/jwt/x", key: noExpiry).status == 200)
            #expect(try await node.get("/jwt/x", key: noExpiry).status == 200)
            let created = Node.object(try await node.admin(.GET, "/tyk/keys/dave").body)
            #expect(created["apply_policies"] as? [String] == ["trial"])
            #expect(created["expires"] as? Int == Int(now + 60), "the trial period sets expires")
            #expect(created["quota_max"] as? Int == 10)
            #expect(created["quota_remaining"] as? Int == 8)
            #expect(created["alias"] as? String == "dave")

            node.harness.clock.advance(by: 61)
            let bounced = try await node.get("/jwt/x", key: noExpiry)
            #expect(bounced.status == 401)
            #expect(Node.error(bounced.body) == "Key has expired, please renew", "the token is valid; the session's trial is over")

            // A new token with an exp: the session follows it and keeps its quota.
            let renewed = try await Self.token(.init(sub: "dave", exp: node.harness.now + 3600))
            let answer = try await node.get("/jwt/x", key: renewed)
            #expect(answer.status == 200, "\(answer.body)")
            let after = Node.object(try await node.admin(.GET, "/tyk/keys/dave").body)
            #expect(after["expires"] as? Int == Int(node.harness.now + 3600))
            #expect(after["quota_remaining"] as? Int == 7, "quota carried over from the first token")

            // An expired token is still the token's own refusal.
            let stale = try await Self.token(.init(sub: "dave", exp: node.harness.now - 5))
            #expect(Node.error(try await node.get("/jwt/x", key: stale).body) == "Key not authorised: token has expired")
        }
    }

    @Test("JWT policy claim: a token naming another policy switches the session to it; an unknown one is refused")
    func jwtPolicyClaim() async throws {
        try await Self.withNode(.memory, policies: Self.jwtPolicies, extraFiles: Self.jwtFiles) { node in
            let exp = node.harness.now + 3600
            #expect(try await node.get("/jwt/x", key: try await Self.token(.init(sub: "erin", exp: exp))).status == 200)
            #expect(Node.object(try await node.admin(.GET, "/tyk/keys/erin").body)["quota_max"] as? Int == 10)
            #expect(try await node.get("/jwt/x", key: try await Self.tokenWithPolicy(sub: "erin", policy: "premium", exp: exp)).status == 200)
            let switched = Node.object(try await node.admin(.GET, "/tyk/keys/erin").body)
            #expect(switched["apply_policies"] as? [String] == ["premium"], "a claimed policy replaces the defaults, as in Tyk")
            #expect(switched["quota_max"] as? Int == 100)
            let unknown = try await node.get("/jwt/x", key: try await Self.tokenWithPolicy(sub: "erin", policy: "platinum", exp: exp))
            #expect(unknown.status == 403)
            #expect(Node.error(unknown.body) == "Key not authorized: no matching policy")
        }
    }

    /// Writes the caller's key before auth: under `gold`, under the
    /// `frozen` policy (active by itself, inactive by its policy) or
    /// already expired, by the path.
    static let rewritingHook = """
    var rewrite = new TykJS.TykMiddleware.NewMiddleware({});
    rewrite.NewProcessRequest(function (request, session, config) {
        var key = request.Headers["Authorization"][0];
        var policy = request.URL.indexOf("frozen") >= 0 ? "frozen" : "gold";
        var expires = request.URL.indexOf("expired") >= 0 ? 1 : 0;
        TykSetKeyData(key, JSON.stringify({org_id: "org", expires: expires, apply_policies: [policy]}));
        return rewrite.ReturnData(request, {});
    });
    """

    @Test("A session a pre hook writes is judged by key_expiry with its policies: gold passes, frozen is 403, expired 401", arguments: StoreKind.allCases)
    func hookWrittenSessionJudged(kind: StoreKind) async throws {
        let files = [
            "apps/a.json": Fixture.tokenAPI(id: "api-a", listen: "/a/", pre: [("rewrite", "rewrite.js")]),
            "rewrite.js": Self.rewritingHook,
        ]
        try await Self.withNode(kind, extraFiles: files) { node in
            #expect(try await node.get("/a/x", key: "rewritten-key").status == 200)
            let frozen = try await node.get("/a/frozen", key: "rewritten-key")
            #expect(frozen.status == 403, "\(frozen.body)")
            #expect(Node.error(frozen.body) == "Key is inactive, please renew")
            let expired = try await node.get("/a/expired", key: "rewritten-key")
            #expect(expired.status == 401, "\(expired.body)")
            #expect(Node.error(expired.body) == "Key has expired, please renew")
            #expect(try await node.get("/a/again", key: "rewritten-key").status == 200, "renewed under gold again")
        }
    }

    struct PolicyClaims: JWTPayload {
        var sub: String
        var pol: String
        var exp: Int64
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func tokenWithPolicy(sub: String, policy: String, exp: Int64) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: "shared-secret-that-is-at-least-32-bytes"), digestAlgorithm: .sha256)
        return try await keys.sign(PolicyClaims(sub: sub, pol: policy, exp: exp))
    }
}
