import PortcullisCore

/// A Tyk session (`user.SessionState`) as a value: copying it never shares
/// mutable state with the cache or another request (the lesson of Tyk's
/// TT-5486). Decodes and encodes Tyk's JSON (see `SessionState+JSON.swift`)
/// and keeps members it does not model in ``unknownFields``.
public struct SessionState: Sendable, Equatable {
    /// `last_check`.
    public var lastCheck: Int64 = 0
    /// `allowance`: rate-limit allowance.
    public var allowance: Double = 0
    /// `rate`: requests per `per` seconds.
    public var rate: Double = 0
    /// `per`: the rate window in seconds.
    public var per: Double = 0
    /// `throttle_interval`.
    public var throttleInterval: Double = 0
    /// `throttle_retry_limit`.
    public var throttleRetryLimit: Int64 = 0
    /// `max_query_depth`.
    public var maxQueryDepth: Int64 = 0
    /// `date_created`: an RFC 3339 time, kept as text.
    public var dateCreated: String = ""
    /// `expires`: Unix seconds after which the key is refused with 401
    /// "Key has expired, please renew"; 0 or less never expires. Logical
    /// expiry only: it does not delete the record (see ``LifetimePolicy``).
    public var expires: Int64 = 0
    /// `quota_max`: requests per quota window; -1 unlimited, 0 no quota.
    public var quotaMax: Int64 = 0
    /// `quota_renews`: Unix seconds when the current quota window ends.
    public var quotaRenews: Int64 = 0
    /// `quota_remaining`.
    public var quotaRemaining: Int64 = 0
    /// `quota_renewal_rate`: the quota window in seconds.
    public var quotaRenewalRate: Int64 = 0
    /// `access_rights`: API ID → what the key may do there.
    public var accessRights: [String: AccessDefinition] = [:]
    /// `org_id`.
    public var orgID: String = ""
    /// `oauth_client_id`.
    public var oauthClientID: String = ""
    /// `oauth_keys`.
    public var oauthKeys: JSONValue = .null
    /// `certificate`.
    public var certificate: String = ""
    /// `mtls_static_certificate_bindings`.
    public var mtlsStaticCertificateBindings: JSONValue = .null
    /// `basic_auth_data`: `{password, hash_type}`.
    public var basicAuthData: JSONValue = SessionState.emptyBasicAuthData
    /// `jwt_data`: `{secret}`.
    public var jwtData: JSONValue = SessionState.emptyJWTData
    /// `hmac_enabled`.
    public var hmacEnabled: Bool = false
    /// `enable_http_signature_validation`.
    public var enableHTTPSignatureValidation: Bool = false
    /// `hmac_string`.
    public var hmacString: String = ""
    /// `rsa_certificate_id`.
    public var rsaCertificateID: String = ""
    /// `is_inactive`: refused with 403 "Key is inactive, please renew".
    public var isInactive: Bool = false
    /// `apply_policy_id` (legacy single policy).
    public var applyPolicyID: String = ""
    /// `apply_policies`.
    public var applyPolicies: [String] = []
    /// `data_expires`.
    public var dataExpires: Int64 = 0
    /// `monitor`: `{trigger_limits}`.
    public var monitor: JSONValue = SessionState.emptyMonitor
    /// `enable_detail_recording` (deprecated spelling).
    public var enableDetailRecording: Bool = false
    /// `enable_detailed_recording`.
    public var enableDetailedRecording: Bool = false
    /// `meta_data`: any JSON members. Always encoded as an object, never
    /// null, so `session.meta_data.x` works in every plugin.
    public var metaData: [String: JSONValue] = [:]
    /// `tags`.
    public var tags: [String] = []
    /// `alias`.
    public var alias: String = ""
    /// `last_updated`: Unix seconds as a string, as Tyk writes it.
    public var lastUpdated: String = ""
    /// `id_extractor_deadline`.
    public var idExtractorDeadline: Int64 = 0
    /// `session_lifetime`: key-level store lifetime in seconds.
    public var sessionLifetime: Int64 = 0
    /// `post_expiry_action`: "", "retain" or "delete" (Tyk ≥ 5.13).
    public var postExpiryAction: String = ""
    /// `post_expiry_grace_period`: seconds kept after `expires` with "retain"; -1 forever.
    public var postExpiryGracePeriod: Int64 = 0
    /// `smoothing`: rate-limit smoothing settings.
    public var smoothing: JSONValue = .null
    /// Members this type does not model, written back unchanged (a project
    /// choice: Tyk itself drops them).
    public var unknownFields: [String: JSONValue] = [:]

    /// Creates an empty session (every field at its zero value).
    public init() {}

    // The zero values of the object fields, made once: every decoded
    // session starts from them.
    static let emptyBasicAuthData: JSONValue = .object(["password": .string(""), "hash_type": .string("")])
    static let emptyJWTData: JSONValue = .object(["secret": .string("")])
    static let emptyMonitor: JSONValue = .object(["trigger_limits": .null])

    /// Whether the key is past `expires` at `now` (Unix seconds). The boundary
    /// second still counts as valid, as in Tyk's `KeyExpired` middleware.
    public func isExpired(at now: Int64) -> Bool {
        expires >= 1 && now > expires
    }
}
