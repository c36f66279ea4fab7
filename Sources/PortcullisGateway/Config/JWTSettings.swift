import Foundation
import PortcullisCore

/// JWT authentication of one API (`enable_jwt` and the `jwt_*` fields of a
/// Tyk classic definition). The token proves who the caller is; the
/// session stored under the identity claim carries expiry, quota and
/// access rights, so a new token for the same subject keeps its quota.
public struct JWTSettings: Sendable, Equatable {
    /// How tokens are signed (`jwt_signing_method`).
    public enum SigningMethod: String, Sendable, Equatable, CaseIterable {
        /// HS256 with a shared secret.
        case hmac
        /// RS256 with an RSA public key.
        case rsa
    }

    /// `jwt_signing_method`.
    public var signingMethod: SigningMethod
    /// `jwt_source`, decoded: the HMAC secret, or the RSA public key PEM.
    public var key: String
    /// `jwt_identity_base_field`: the claim naming the session (default `sub`).
    public var identityClaim: String
    /// `jwt_expires_at_validation_skew`: seconds an `exp` may be past.
    public var expiresSkew: Int64
    /// `jwt_not_before_validation_skew`: seconds an `nbf` may be ahead.
    public var notBeforeSkew: Int64
    /// `jwt_issued_at_validation_skew`: seconds an `iat` may be ahead.
    public var issuedAtSkew: Int64
    /// `jwt_default_policies`: the policies a subject's session is created
    /// with on its first token (the first one is the base policy).
    public var defaultPolicies: [String] = []
    /// `jwt_policy_field_name`: a claim naming the base policy instead.
    public var policyFieldName: String = ""

    /// Whether sessions are created and kept in step with policies from the
    /// token (Tyk's centralised JWT); otherwise the session must exist.
    public var createsSessions: Bool { !defaultPolicies.isEmpty || !policyFieldName.isEmpty }

    /// Creates settings.
    public init(signingMethod: SigningMethod, key: String, identityClaim: String = "sub",
                expiresSkew: Int64 = 0, notBeforeSkew: Int64 = 0, issuedAtSkew: Int64 = 0) {
        self.signingMethod = signingMethod
        self.key = key
        self.identityClaim = identityClaim
        self.expiresSkew = expiresSkew
        self.notBeforeSkew = notBeforeSkew
        self.issuedAtSkew = issuedAtSkew
    }

    /// `jwt_source` as Tyk stores it is base64 of the secret or PEM; a PEM
    /// given as it is, or a secret that is not base64, is used unchanged.
    static func decodeSource(_ source: String) -> String {
        if source.contains("-----BEGIN") { return source }
        guard let data = Base64URL.decode(source), let text = String(data: data, encoding: .utf8), !text.isEmpty else {
            return source
        }
        return text
    }
}

extension APIDefinitionParser {
    /// The JWT section, nil unless `enable_jwt`; refuses an unknown
    /// signing method, an empty source or a negative skew, naming the field.
    static func parseJWT(_ root: ConfigReader) throws -> JWTSettings? {
        guard try root.bool("enable_jwt") == true else { return nil }
        let method = try root.string("jwt_signing_method") ?? ""
        guard let signing = JWTSettings.SigningMethod(rawValue: method) else {
            throw ConfigError.invalidField(file: root.file, field: "jwt_signing_method",
                                           reason: "must be hmac (HS256) or rsa (RS256), got '\(method)'")
        }
        guard let source = try root.string("jwt_source"), !source.isEmpty else {
            throw ConfigError.missingField(file: root.file, field: "jwt_source")
        }
        let identity = try root.string("jwt_identity_base_field").flatMap { $0.isEmpty ? nil : $0 } ?? "sub"
        var settings = JWTSettings(signingMethod: signing, key: JWTSettings.decodeSource(source), identityClaim: identity,
                                   expiresSkew: try skew(root, "jwt_expires_at_validation_skew"),
                                   notBeforeSkew: try skew(root, "jwt_not_before_validation_skew"),
                                   issuedAtSkew: try skew(root, "jwt_issued_at_validation_skew"))
        settings.defaultPolicies = try policyIDs(root, "jwt_default_policies")
        settings.policyFieldName = try root.string("jwt_policy_field_name") ?? ""
        return settings
    }

    /// A JWT validation skew: whole seconds, 0 or more (classic and Tyk OAS).
    static func skew(_ reader: ConfigReader, _ field: String) throws -> Int64 {
        let value = try reader.int(field) ?? 0
        guard value >= 0 else {
            throw ConfigError.invalidField(file: reader.file, field: reader.path(field), reason: "must be 0 or more seconds, got \(value)")
        }
        return value
    }

    /// A list of policy ids (`jwt_default_policies`, OAS `defaultPolicies`).
    static func policyIDs(_ reader: ConfigReader, _ field: String) throws -> [String] {
        try (reader.array(field) ?? []).enumerated().map { index, value in
            guard case .string(let id) = value, !id.isEmpty else {
                throw ConfigError.invalidField(file: reader.file, field: "\(reader.path(field))[\(index)]", reason: "must be a policy id (a non-empty string)")
            }
            return id
        }
    }
}
