/// Why a JSON Web Token was refused. The token's own lifetime (`exp`,
/// `nbf`, `iat`) is checked before, and separately from, the lifetime of
/// the session it maps to, so a client can tell "get a new token" from
/// "your account has expired".
public enum JWTRejection: Error, Sendable, Equatable {
    /// Not three base64url parts, or the header or claims are not JSON.
    case malformed
    /// The signature does not verify with the API's key, or the token's
    /// `alg` is not the API's `jwt_signing_method`.
    case signatureInvalid
    /// `exp` is in the past, beyond the allowed skew.
    case expired
    /// `nbf` (or `iat`) is in the future, beyond the allowed skew.
    case notYetValid
    /// The identity claim (`jwt_identity_base_field`, default `sub`) is
    /// missing or not a non-empty string.
    case missingIdentity(claim: String)

    /// The text after "Key not authorised: ".
    public var message: String {
        switch self {
        case .malformed: return "token is malformed"
        case .signatureInvalid: return "signature is invalid"
        case .expired: return "token has expired"
        case .notYetValid: return "token is not valid yet"
        case .missingIdentity(let claim): return "token has no '\(claim)' claim"
        }
    }
}
