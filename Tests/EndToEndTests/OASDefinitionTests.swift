import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
@testable import PortcullisGateway
import PortcullisTestSupport
import Testing

/// Tyk OAS API definitions: an OpenAPI document with `x-tyk-api-gateway`
/// loads beside classic files and serves what its classic twin serves.
@Suite("Tyk OAS API definitions")
struct OASDefinitionTests {
    static let plugins = #"""
    var preHook = new TykJS.TykMiddleware.NewMiddleware({});
    preHook.NewProcessRequest(function (request, session, config) {
      request.SetHeaders["X-Team"] = config.config_data.team;
      request.SetHeaders["X-Api"] = config.APIID === "classic-twin" || config.APIID === "oas-twin" ? "twin" : "other";
      return preHook.ReturnData(request, {});
    });
    var postHook = new TykJS.TykMiddleware.NewMiddleware({});
    postHook.NewProcessRequest(function (request, session, config) {
      request.SetHeaders["X-Alias"] = session.alias;
      request.SetHeaders["X-Quota"] = String(session.quota_max);
      return postHook.ReturnData(request, session.meta_data);
    });
    function greet(request, session, config) {
      var parts = request.URL.split("/");
      return TykJsResponse({Body: JSON.stringify({hello: parts[parts.length - 1], team: config.config_data.team, method: request.Method}),
                            Code: 201, Headers: {"Content-Type": "application/json", "X-Greeter": "virtual"}}, session.meta_data);
    }
    """#

    static let classic = """
    {"name": "Twin", "api_id": "classic-twin", "org_id": "org", "active": true,
     "auth": {"auth_header_name": "X-Api-Key"},
     "proxy": {"listen_path": "/classic/", "target_url": "{{upstream}}/echo", "strip_listen_path": true},
     "config_data": {"team": "blue"},
     "custom_middleware": {"driver": "otto",
       "pre": [{"name": "preHook", "path": "{{dir}}/plugins.js"}],
       "post": [{"name": "postHook", "path": "{{dir}}/plugins.js", "require_session": true}]},
     "version_data": {"versions": {"Default": {"extended_paths": {"virtual": [
       {"response_function_name": "greet", "function_source_type": "file", "function_source_uri": "{{dir}}/plugins.js",
        "path": "/greet/{name}", "method": "GET"}]}}}}}
    """

    static func oas(id: String = "oas-twin", listen: String = "/oas/", extraGlobal: String = "", extraUpstream: String = "",
                    extraAuthentication: String = "") -> String {
        """
        {
          "openapi": "3.0.3",
          "info": {"title": "Twin", "version": "1.0.0"},
          "servers": [{"url": "http://127.0.0.1/oas/"}],
          "security": [{"apiKeyAuth": []}],
          "components": {"securitySchemes": {"apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}}},
          "paths": {
            "/greet/{name}": {"get": {"operationId": "greetUser", "parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}}],
                                      "responses": {"201": {"description": "a greeting"}}}}
          },
          "x-tyk-api-gateway": {
            "info": {"id": "\(id)", "orgId": "org", "name": "Twin", "state": {"active": true}},
            "upstream": {"url": "{{upstream}}/echo" \(extraUpstream)},
            "server": {
              "listenPath": {"value": "\(listen)", "strip": true},
              "authentication": {"enabled": true, "securitySchemes": {"apiKeyAuth": {"enabled": true}} \(extraAuthentication)}
            },
            "middleware": {
              "global": {
                "pluginConfig": {"driver": "otto", "data": {"enabled": true, "value": {"team": "blue"}}},
                "prePlugins": [{"enabled": true, "functionName": "preHook", "path": "{{dir}}/plugins.js"}],
                "postPlugins": [{"enabled": true, "functionName": "postHook", "path": "{{dir}}/plugins.js", "requireSession": true}],
                "cors": {"enabled": false}
                \(extraGlobal)
              },
              "operations": {
                "greetUser": {"virtualEndpoint": {"enabled": true, "functionName": "greet", "path": "{{dir}}/plugins.js"}}
              }
            }
          }
        }
        """
    }

    static let session = #"""
    {"alias": "twin-user", "quota_max": 50, "quota_remaining": 50, "quota_renewal_rate": 3600, "expires": 0,
     "access_rights": {"classic-twin": {"api_id": "classic-twin", "versions": ["Default"]},
                       "oas-twin": {"api_id": "oas-twin", "versions": ["Default"]},
                       "oas-limited": {"api_id": "oas-limited", "versions": ["Default"]}}}
    """#

    @Test("An OAS definition with a pre plugin, a post plugin and a virtual endpoint answers as its classic twin, over real sockets")
    func twinsAnswerAlike() async throws {
        let h = try await GatewayHarness.make(files: [
            "apps/classic.json": Self.classic, "apps/oas.json": Self.oas(), "plugins.js": Self.plugins,
        ])
        #expect(h.gateway.lastLoadFailures.isEmpty, "\(h.gateway.lastLoadFailures)")
        let oas = try #require(h.gateway.loadedAPIs.first { $0.apiID == "oas-twin" })
        #expect(oas.format == .oas && oas.authHeaderName == "X-Api-Key" && oas.configData == .object(["team": .string("blue")]))
        #expect(await h.createKey("twin-key", Self.session).status == 200)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        try await h.withServer { port in
            func get(_ path: String, key: String?) async throws -> (UInt, [(String, String)], String) {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
                if let key { request.headers.add(name: "X-Api-Key", value: key) }
                let response = try await client.execute(request, timeout: .seconds(10))
                let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
                return (response.status.code, response.headers.map { ($0.name.lowercased(), $0.value) }, body)
            }
            for (path, key) in [("/x/feed?page=2", "twin-key"), ("/greet/ada", "twin-key"), ("/x/feed", nil), ("/x/feed", "wrong-key")] {
                let classic = try await get("/classic" + path, key: key)
                let oas = try await get("/oas" + path, key: key)
                #expect(classic.0 == oas.0, "\(path): \(classic.0) vs \(oas.0)")
                #expect(classic.2 == oas.2, "\(path): \(classic.2) vs \(oas.2)")
                let shared = ["content-type", "x-greeter"]
                #expect(classic.1.filter { shared.contains($0.0) }.map(\.1) == oas.1.filter { shared.contains($0.0) }.map(\.1), "\(path)")
            }
            let proxied = try await get("/oas/x/feed", key: "twin-key")
            #expect(proxied.0 == 200)
            for expected in [#""x-team":"blue""#, #""x-alias":"twin-user""#, #""x-quota":"50""#, #""uri":"\/echo\/x\/feed""#] {
                #expect(proxied.2.contains(expected), "the pre and post plugins ran, config_data came from pluginConfig: \(proxied.2)")
            }
            let greeted = try await get("/oas/greet/ada", key: "twin-key")
            #expect(greeted.0 == 201 && greeted.2.contains(#""hello":"ada""#) && greeted.2.contains(#""team":"blue""#), "\(greeted.2)")
            #expect(try await get("/oas/greet/ada", key: nil).0 == 401, "the virtual endpoint sits behind the API's auth")
        }
        try await client.shutdown()
        await h.close()
    }

    @Test("upstream.rateLimit is the API-level limit (429 API Rate Limit Exceeded); skipQuota turns the key's quota off; customKeyLifetime sets session_lifetime")
    func rateLimitQuotaAndLifetime() async throws {
        let limited = Self.oas(id: "oas-limited", listen: "/limited/", extraGlobal: #", "skipQuota": true"#,
                               extraUpstream: #", "rateLimit": {"enabled": true, "rate": 2, "per": "1m"}"#,
                               extraAuthentication: #", "customKeyLifetime": {"enabled": true, "value": "1h30m", "respectValidity": true}"#)
        let h = try await GatewayHarness.make(files: ["apps/oas.json": limited, "plugins.js": Self.plugins])
        #expect(h.gateway.lastLoadFailures.isEmpty, "\(h.gateway.lastLoadFailures)")
        let api = try #require(h.gateway.loadedAPIs.first)
        #expect(api.sessionLifetime == 5400 && api.sessionLifetimeRespectsKeyExpiration && api.disableQuota)
        #expect(api.globalRateLimit == APIRateLimit(rate: 2, per: 60))
        #expect(await h.createKey("limit-key", Self.session.replacingOccurrences(of: #""quota_max": 50"#, with: #""quota_max": 1"#)).status == 200)
        #expect(await h.send("/limited/x", headers: [("X-Api-Key", "limit-key")]).status == 200)
        #expect(await h.send("/limited/x", headers: [("X-Api-Key", "limit-key")]).status == 200, "skipQuota: the key's quota of 1 is not counted")
        let third = await h.send("/limited/x", headers: [("X-Api-Key", "limit-key")])
        #expect(third.status == 429)
        #expect(third.json?["error"] as? String == "API Rate Limit Exceeded")
        #expect(third.headers.first("Retry-After") != nil)
        h.clock.advance(by: 121)
        #expect(await h.send("/limited/x", headers: [("X-Api-Key", "limit-key")]).status == 200, "the window slid")
        await h.close()
    }

    @Test("An OAS file is refused with the field named; fields Portcullis does not serve are listed, one line per file")
    func refusalsAndIgnoredFields() throws {
        func parse(_ text: String) throws -> (APIDefinition, ignored: [String]) {
            try APIDefinitionParser.parse(text.replacingOccurrences(of: "{{upstream}}", with: "http://127.0.0.1:9")
                .replacingOccurrences(of: "{{dir}}", with: "/tmp"), file: "apps/oas.json") { _ in "function greet() {}" }
        }
        let (_, ignored) = try parse(Self.oas(extraGlobal: #", "cache": {"enabled": true, "timeout": 60}"#))
        #expect(ignored.contains("x-tyk-api-gateway.middleware.global.cors"), "\(ignored)")
        #expect(ignored.contains("x-tyk-api-gateway.middleware.global.cache"), "\(ignored)")
        #expect(!ignored.contains { $0.hasPrefix("paths") || $0.hasPrefix("components") || $0 == "openapi" }, "\(ignored)")

        let cases: [(String, String, String)] = [
            (Self.oas().replacingOccurrences(of: #""id": "oas-twin", "#, with: ""), "x-tyk-api-gateway.info.id", "required"),
            (Self.oas(listen: "oas/"), "x-tyk-api-gateway.server.listenPath.value", "must start with /"),
            (Self.oas().replacingOccurrences(of: #""in": "header""#, with: #""in": "query""#), "components.securitySchemes.apiKeyAuth.in", "header only"),
            (Self.oas().replacingOccurrences(of: #""operationId": "greetUser""#, with: #""operationId": "other""#),
             "x-tyk-api-gateway.middleware.operations.greetUser", "no operation"),
            (Self.oas(extraUpstream: #", "rateLimit": {"enabled": true, "rate": 5, "per": "soon"}"#),
             "x-tyk-api-gateway.upstream.rateLimit.per", "not a duration"),
            (Self.oas().replacingOccurrences(of: #""functionName": "preHook""#, with: #""functionName": "pre-hook""#),
             "x-tyk-api-gateway.middleware.global.prePlugins[0].functionName", "not a JavaScript identifier"),
        ]
        for (text, field, reason) in cases {
            do {
                _ = try parse(text)
                Issue.record("accepted a definition that should name \(field)")
            } catch {
                let message = "\(error)"
                #expect(message.contains("apps/oas.json") && message.contains(field) && message.contains(reason), "\(message)")
            }
        }
    }

    @Test("A bearer JWT scheme and custom plugin auth map to the classic JWT and auth_check settings")
    func jwtAndCustomAuth() throws {
        func parse(_ text: String) throws -> APIDefinition {
            try APIDefinitionParser.parse(text.replacingOccurrences(of: "{{upstream}}", with: "http://127.0.0.1:9")
                .replacingOccurrences(of: "{{dir}}", with: "/tmp"), file: "apps/oas.json") { _ in "function greet() {}" }.0
        }
        let jwtText = Self.oas()
            .replacingOccurrences(of: #"{"apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}}"#,
                                  with: #"{"jwtAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}"#)
            .replacingOccurrences(of: #""security": [{"apiKeyAuth": []}]"#, with: #""security": [{"jwtAuth": []}]"#)
            .replacingOccurrences(of: #""securitySchemes": {"apiKeyAuth": {"enabled": true}}"#, with: """
            "securitySchemes": {"jwtAuth": {"enabled": true, "source": "c2VjcmV0", "signingMethod": "hmac", "identityBaseField": "user",
              "defaultPolicies": ["trial"], "policyFieldName": "pol", "expiresAtValidationSkew": 5, "header": {"enabled": true, "name": "X-Token"}}}
            """)
        let jwt = try parse(jwtText)
        #expect(jwt.jwt?.signingMethod == .hmac && jwt.jwt?.key == "secret" && jwt.jwt?.identityClaim == "user")
        #expect(jwt.jwt?.defaultPolicies == ["trial"] && jwt.jwt?.policyFieldName == "pol" && jwt.jwt?.expiresSkew == 5)
        #expect(jwt.authHeaderName == "X-Token" && !jwt.useKeyless)

        let customText = Self.oas().replacingOccurrences(of: #""securitySchemes": {"apiKeyAuth": {"enabled": true}}"#, with: """
            "custom": {"enabled": true, "config": {"enabled": true, "functionName": "myAuth", "path": "{{dir}}/auth.js"}}
            """)
        let custom = try parse(customText)
        #expect(custom.customAuthEnabled && custom.middleware.authCheck?.name == "myAuth" && custom.middleware.authCheck?.disabled == false)

        let keyless = try parse(Self.oas().replacingOccurrences(of: #""authentication": {"enabled": true"#, with: #""authentication": {"enabled": false"#))
        #expect(keyless.useKeyless)
    }
}
