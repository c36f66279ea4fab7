import _CryptoExtras
import Foundation
import JWTKit
import PortcullisGateway
import PortcullisSessions
import Testing

/// JWT auth (seed 002): the token's lifetime and the session's lifetime
/// are checked separately, each with its own message, and the session
/// named by `sub` keeps its quota across new tokens.
@Suite("JWT auth")
struct JWTAuthTests {
    struct Claims: JWTPayload {
        var sub: String?
        var exp: Int64?
        var nbf: Int64?
        var iat: Int64?
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func hmacAPI(id: String = "jwt-api", listen: String = "/jwt/", extra: String = "") -> String {
        """
        {"name": "\(id)", "api_id": "\(id)", "org_id": "org", "active": true, "enable_jwt": true,
         "jwt_signing_method": "hmac", "jwt_source": "\(Data("shared-secret-that-is-at-least-32-bytes".utf8).base64EncodedString())" \(extra),
         "proxy": {"listen_path": "\(listen)", "target_url": "{{upstream}}/echo", "strip_listen_path": true}}
        """
    }

    static func sign(_ claims: Claims, secret: String = "shared-secret-that-is-at-least-32-bytes") async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(claims)
    }

    static func bearer(_ token: String) -> [(String, String)] { [("Authorization", "Bearer \(token)")] }

    @Test("HS256: each combination of token and session expiry gets its own answer")
    func expiryCombinations() async throws {
        let h = try await GatewayHarness.make(files: ["apps/jwt.json": Self.hmacAPI()])
        defer { Task { await h.close() } }
        let now = h.now
        #expect(await h.createKey("alice", Fixture.session(expires: now + 3600, api: "jwt-api")).status == 200)
        #expect(await h.createKey("bob", Fixture.session(expires: now - 10, api: "jwt-api")).status == 200)

        let cases: [(String, Claims, Int, String)] = [
            ("valid token, valid session", Claims(sub: "alice", exp: now + 60), 200, ""),
            ("expired token, valid session", Claims(sub: "alice", exp: now - 1), 401, "Key not authorised: token has expired"),
            ("valid token, expired session", Claims(sub: "bob", exp: now + 60), 401, "Key has expired, please renew"),
            ("expired token, expired session", Claims(sub: "bob", exp: now - 1), 401, "Key not authorised: token has expired"),
            ("token not valid yet", Claims(sub: "alice", exp: now + 60, nbf: now + 30), 401, "Key not authorised: token is not valid yet"),
            ("issued in the future", Claims(sub: "alice", exp: now + 60, iat: now + 30), 401, "Key not authorised: token is not valid yet"),
            ("no sub", Claims(exp: now + 60), 401, "Key not authorised: token has no 'sub' claim"),
            ("unknown subject", Claims(sub: "carol", exp: now + 60), 403, "Access to this API has been disallowed"),
        ]
        for (name, claims, status, message) in cases {
            let response = await h.send("/jwt/x", headers: Self.bearer(try await Self.sign(claims)))
            #expect(response.status == status, "\(name): \(response.status) \(response.text)")
            if !message.isEmpty { #expect(response.json?["error"] as? String == message, "\(name): \(response.text)") }
        }
        let expired = await h.send("/jwt/x", headers: Self.bearer(try await Self.sign(Claims(sub: "alice", exp: now - 1))))
        #expect(expired.headers.first("WWW-Authenticate")?.contains("token has expired") == true)

        let forged = await h.send("/jwt/x", headers: Self.bearer(try await Self.sign(Claims(sub: "alice", exp: now + 60), secret: "another-secret-that-is-32-bytes-long")))
        #expect(forged.status == 401)
        #expect(forged.json?["error"] as? String == "Key not authorised: signature is invalid")
        let garbage = await h.send("/jwt/x", headers: Self.bearer("not.a-token"))
        #expect(garbage.json?["error"] as? String == "Key not authorised: token is malformed")
    }

    @Test("Skews: an exp or nbf within the configured leeway is accepted, beyond it refused")
    func leeway() async throws {
        let h = try await GatewayHarness.make(files: ["apps/jwt.json": Self.hmacAPI(
            extra: #", "jwt_expires_at_validation_skew": 30, "jwt_not_before_validation_skew": 20"#)])
        defer { Task { await h.close() } }
        let now = h.now
        #expect(await h.createKey("alice", Fixture.session(expires: now + 3600, api: "jwt-api")).status == 200)
        let within = await h.send("/jwt/x", headers: Self.bearer(try await Self.sign(Claims(sub: "alice", exp: now - 29))))
        #expect(within.status == 200, "\(within.text)")
        let beyond = await h.send("/jwt/x", headers: Self.bearer(try await Self.sign(Claims(sub: "alice", exp: now - 31))))
        #expect(beyond.status == 401)
        let early = await h.send("/jwt/x", headers: Self.bearer(try await Self.sign(Claims(sub: "alice", exp: now + 60, nbf: now + 19))))
        #expect(early.status == 200, "\(early.text)")
        let tooEarly = await h.send("/jwt/x", headers: Self.bearer(try await Self.sign(Claims(sub: "alice", exp: now + 60, nbf: now + 21))))
        #expect(tooEarly.status == 401)
        // Time moves: the same token expires on the gateway clock.
        let token = try await Self.sign(Claims(sub: "alice", exp: now + 10))
        #expect(await h.send("/jwt/x", headers: Self.bearer(token)).status == 200)
        h.clock.advance(by: 41)
        #expect(await h.send("/jwt/x", headers: Self.bearer(token)).status == 401)
    }

    @Test("A new token for the same sub keeps the session's quota")
    func quotaAcrossTokens() async throws {
        let h = try await GatewayHarness.make(files: ["apps/jwt.json": Self.hmacAPI()])
        defer { Task { await h.close() } }
        let now = h.now
        #expect(await h.createKey("alice", Fixture.session(expires: now + 3600, api: "jwt-api", quota: 3)).status == 200)
        let first = try await Self.sign(Claims(sub: "alice", exp: now + 60))
        #expect(await h.send("/jwt/x", headers: Self.bearer(first)).status == 200)
        #expect(await h.send("/jwt/x", headers: Self.bearer(first)).status == 200)
        h.clock.advance(by: 120)
        let second = try await Self.sign(Claims(sub: "alice", exp: h.now + 60))
        #expect(await h.send("/jwt/x", headers: Self.bearer(first)).status == 401)
        #expect(await h.send("/jwt/x", headers: Self.bearer(second)).status == 200)
        let exhausted = await h.send("/jwt/x", headers: Self.bearer(second))
        #expect(exhausted.status == 403)
        #expect(exhausted.json?["error"] as? String == "Quota exceeded")
    }

    @Test("RS256: tokens signed with the matching private key pass; HS256 tokens and other keys are refused")
    func rsa() async throws {
        let privateKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let otherKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let pem = privateKey.publicKey.pemRepresentation
        let api = """
        {"name": "rsa", "api_id": "rsa-api", "org_id": "org", "active": true, "enable_jwt": true,
         "jwt_signing_method": "rsa", "jwt_source": "\(Data(pem.utf8).base64EncodedString())",
         "proxy": {"listen_path": "/rsa/", "target_url": "{{upstream}}/echo", "strip_listen_path": true}}
        """
        let h = try await GatewayHarness.make(files: ["apps/rsa.json": api])
        defer { Task { await h.close() } }
        let now = h.now
        #expect(await h.createKey("alice", Fixture.session(expires: now + 3600, api: "rsa-api")).status == 200)
        func sign(_ key: _RSA.Signing.PrivateKey) async throws -> String {
            let keys = JWTKeyCollection()
            await keys.add(rsa: try Insecure.RSA.PrivateKey(backing: key), digestAlgorithm: .sha256)
            return try await keys.sign(Claims(sub: "alice", exp: now + 60))
        }
        let good = await h.send("/rsa/x", headers: Self.bearer(try await sign(privateKey)))
        #expect(good.status == 200, "\(good.text)")
        let other = await h.send("/rsa/x", headers: Self.bearer(try await sign(otherKey)))
        #expect(other.json?["error"] as? String == "Key not authorised: signature is invalid")
        // An HS256 token "signed" with the public key text must not pass (algorithm confusion).
        let confused = await h.send("/rsa/x", headers: Self.bearer(try await Self.sign(Claims(sub: "alice", exp: now + 60), secret: pem)))
        #expect(confused.status == 401)
    }

    @Test("A definition with a bad signing method or RSA key is refused naming the field; the others serve")
    func badDefinitions() async throws {
        let h = try await GatewayHarness.make(files: [
            "apps/method.json": Self.hmacAPI(id: "m", listen: "/m/").replacingOccurrences(of: #""hmac""#, with: #""es512""#),
            "apps/rsa.json": Self.hmacAPI(id: "r", listen: "/r/").replacingOccurrences(of: #""hmac""#, with: #""rsa""#),
            "apps/ok.json": Self.hmacAPI(),
        ])
        defer { Task { await h.close() } }
        let failures = h.gateway.lastLoadFailures.joined(separator: "\n")
        #expect(failures.contains("jwt_signing_method"), "\(failures)")
        #expect(failures.contains("must be hmac (HS256) or rsa (RS256), got 'es512'"))
        #expect(failures.contains("'jwt_source' is not an RSA public key"), "\(failures)")
        #expect(h.gateway.loadedAPIs.map(\.apiID) == ["jwt-api"])
    }
}
