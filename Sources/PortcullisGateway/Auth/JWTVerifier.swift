import Crypto
import Foundation
import JWTKit
import PortcullisCore

/// Checks one API's JSON Web Tokens: the signature with the API's key
/// (HS256 or RS256, nothing else, so a token cannot pick a weaker
/// algorithm), then `exp`, `nbf` and `iat` against the gateway clock with
/// the API's skews. Answers the identity claim, which names the session.
/// Built once per API load; the key collection is an actor, safe to share.
///
/// HS256 is verified here with swift-crypto's constant-time HMAC check, so
/// secrets shorter than 32 bytes (which Tyk accepts and RFC 7518 advises
/// against) still work; RS256 goes through jwt-kit.
public struct JWTVerifier: Sendable {
    /// Why the API's key could not be used.
    public enum SetupError: Error, CustomStringConvertible {
        /// `jwt_source` is not an RSA public key PEM.
        case invalidRSAKey(file: String, reason: String)

        public var description: String {
            switch self {
            case .invalidRSAKey(let file, let reason):
                return "\(file): field 'jwt_source' is not an RSA public key in PEM form (\(reason))"
            }
        }
    }

    private let keys: JWTKeyCollection?
    private let hmacKey: SymmetricKey?
    private let settings: JWTSettings
    private let algorithm: String

    /// Prepares the key; refuses an RSA source that is not a public key.
    public static func make(_ settings: JWTSettings, file: String) async throws -> JWTVerifier {
        switch settings.signingMethod {
        case .hmac:
            return JWTVerifier(keys: nil, hmacKey: SymmetricKey(data: Array(settings.key.utf8)), settings: settings, algorithm: "HS256")
        case .rsa:
            let keys = JWTKeyCollection()
            let key: JWTKit.Insecure.RSA.PublicKey
            do {
                key = try JWTKit.Insecure.RSA.PublicKey(pem: settings.key)
            } catch {
                throw SetupError.invalidRSAKey(file: file, reason: "\(error)")
            }
            await keys.add(rsa: key, digestAlgorithm: .sha256)
            return JWTVerifier(keys: keys, hmacKey: nil, settings: settings, algorithm: "RS256")
        }
    }

    /// Whether the HS256 secret is shorter than the 32 bytes RFC 7518 asks for.
    public var hasShortSecret: Bool {
        settings.signingMethod == .hmac && settings.key.utf8.count < 32
    }

    /// The identity claim's value of a valid token, or the reason it is not.
    public func identity(of token: String, now: Int64) async -> Result<String, JWTRejection> {
        await verify(token, now: now).map(\.subject)
    }

    /// What a valid token says about its caller, or the reason it is not valid.
    public func verify(_ token: String, now: Int64) async -> Result<JWTIdentity, JWTRejection> {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Self.decodeObject(parts[0]), let claims = Self.decodeObject(parts[1]) else {
            return .failure(.malformed)
        }
        guard header["alg"] as? String == algorithm else { return .failure(.signatureInvalid) }
        if let hmacKey {
            let signingInput = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
            guard let signature = Base64URL.decode(parts[2]),
                  HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signingInput, using: hmacKey)
            else { return .failure(.signatureInvalid) }
        } else if let keys {
            do {
                _ = try await keys.verify(token, as: AnyClaims.self)
            } catch {
                return .failure(.signatureInvalid)
            }
        }
        if let exp = Self.number(claims["exp"]), now >= exp + settings.expiresSkew { return .failure(.expired) }
        if let nbf = Self.number(claims["nbf"]), now + settings.notBeforeSkew < nbf { return .failure(.notYetValid) }
        if let iat = Self.number(claims["iat"]), now + settings.issuedAtSkew < iat { return .failure(.notYetValid) }
        guard let identity = claims[settings.identityClaim] as? String, !identity.isEmpty else {
            return .failure(.missingIdentity(claim: settings.identityClaim))
        }
        let policy = settings.policyFieldName.isEmpty ? nil : Self.claim(settings.policyFieldName, in: claims)
        return .success(JWTIdentity(subject: identity, expires: Self.number(claims["exp"]), policyID: policy))
    }

    /// A string claim by name; a dotted name reaches into nested objects
    /// when no claim has the whole name.
    private static func claim(_ name: String, in claims: [String: Any]) -> String? {
        if let value = claims[name] as? String { return value.isEmpty ? nil : value }
        var current: Any? = claims
        for part in name.split(separator: ".") {
            current = (current as? [String: Any])?[String(part)]
        }
        guard let value = current as? String, !value.isEmpty else { return nil }
        return value
    }

    private static func decodeObject(_ part: Substring) -> [String: Any]? {
        guard let data = Base64URL.decode(part) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    private static func number(_ value: Any?) -> Int64? {
        guard let number = value as? NSNumber, !(value is Bool) else { return nil }
        return Int64(number.doubleValue.rounded(.down))
    }
}

/// What a verified token says: who it names, when it expires, and the
/// policy a claim asks for (`jwt_policy_field_name`).
public struct JWTIdentity: Sendable, Equatable {
    /// The identity claim's value: the name of the caller's session.
    public var subject: String
    /// `exp`, when the token has one.
    public var expires: Int64?
    /// The policy id in the `jwt_policy_field_name` claim, when set.
    public var policyID: String?
}

/// Any claims: the signature is what jwt-kit checks here; the time claims
/// are checked by ``JWTVerifier`` on the gateway clock, with the API's skews.
private struct AnyClaims: JWTPayload {
    init(from decoder: any Decoder) throws {}
    func encode(to encoder: any Encoder) throws {}
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
