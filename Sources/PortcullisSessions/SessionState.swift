import PortcullisCore

/// A Tyk session (`user.SessionState`) as a value: copying it never shares
/// mutable state with the cache or another request (the lesson of Tyk's
/// TT-5486). Decodes and encodes Tyk's JSON (see `SessionState+JSON.swift`)
/// and keeps members it does not model in ``unknownFields``.
///
/// Copies share one storage until one of them changes (copy on write): a
/// session is copied out of the cache on every read and into every
/// request, and copying some forty fields one by one cost a reference
/// count for every string, array and object among them.
public struct SessionState: Sendable, Equatable {
    /// The stored fields; the accessors below say what each one is.
    fileprivate struct Fields: Sendable, Equatable {
        var lastCheck: Int64 = 0
        var allowance: Double = 0
        var rate: Double = 0
        var per: Double = 0
        var throttleInterval: Double = 0
        var throttleRetryLimit: Int64 = 0
        var maxQueryDepth: Int64 = 0
        var dateCreated: String = ""
        var expires: Int64 = 0
        var quotaMax: Int64 = 0
        var quotaRenews: Int64 = 0
        var quotaRemaining: Int64 = 0
        var quotaRenewalRate: Int64 = 0
        var accessRights: [String: AccessDefinition] = [:]
        var orgID: String = ""
        var oauthClientID: String = ""
        var oauthKeys: JSONValue = .null
        var certificate: String = ""
        var mtlsStaticCertificateBindings: JSONValue = .null
        var basicAuthData: JSONValue = SessionState.emptyBasicAuthData
        var jwtData: JSONValue = SessionState.emptyJWTData
        var hmacEnabled: Bool = false
        var enableHTTPSignatureValidation: Bool = false
        var hmacString: String = ""
        var rsaCertificateID: String = ""
        var isInactive: Bool = false
        var applyPolicyID: String = ""
        var applyPolicies: [String] = []
        var dataExpires: Int64 = 0
        var monitor: JSONValue = SessionState.emptyMonitor
        var enableDetailRecording: Bool = false
        var enableDetailedRecording: Bool = false
        var metaData: [String: JSONValue] = [:]
        var tags: [String] = []
        var alias: String = ""
        var lastUpdated: String = ""
        var idExtractorDeadline: Int64 = 0
        var sessionLifetime: Int64 = 0
        var postExpiryAction: String = ""
        var postExpiryGracePeriod: Int64 = 0
        var smoothing: JSONValue = .null
        var unknownFields: [String: JSONValue] = [:]
    }

    /// The fields, shared by this value's copies until one of them changes.
    private var storage: CopyOnWrite<Fields>

    /// `last_check`.
    public var lastCheck: Int64 {
        get { storage.value.lastCheck }
        _modify { yield &storage.value.lastCheck }
    }

    /// `allowance`: rate-limit allowance.
    public var allowance: Double {
        get { storage.value.allowance }
        _modify { yield &storage.value.allowance }
    }

    /// `rate`: requests per `per` seconds.
    public var rate: Double {
        get { storage.value.rate }
        _modify { yield &storage.value.rate }
    }

    /// `per`: the rate window in seconds.
    public var per: Double {
        get { storage.value.per }
        _modify { yield &storage.value.per }
    }

    /// `throttle_interval`.
    public var throttleInterval: Double {
        get { storage.value.throttleInterval }
        _modify { yield &storage.value.throttleInterval }
    }

    /// `throttle_retry_limit`.
    public var throttleRetryLimit: Int64 {
        get { storage.value.throttleRetryLimit }
        _modify { yield &storage.value.throttleRetryLimit }
    }

    /// `max_query_depth`.
    public var maxQueryDepth: Int64 {
        get { storage.value.maxQueryDepth }
        _modify { yield &storage.value.maxQueryDepth }
    }

    /// `date_created`: an RFC 3339 time, kept as text.
    public var dateCreated: String {
        get { storage.value.dateCreated }
        _modify { yield &storage.value.dateCreated }
    }

    /// `expires`: Unix seconds after which the key is refused with 401
    /// "Key has expired, please renew"; 0 or less never expires. Logical
    /// expiry only: it does not delete the record (see ``LifetimePolicy``).
    public var expires: Int64 {
        get { storage.value.expires }
        _modify { yield &storage.value.expires }
    }

    /// `quota_max`: requests per quota window; -1 unlimited, 0 no quota.
    public var quotaMax: Int64 {
        get { storage.value.quotaMax }
        _modify { yield &storage.value.quotaMax }
    }

    /// `quota_renews`: Unix seconds when the current quota window ends.
    public var quotaRenews: Int64 {
        get { storage.value.quotaRenews }
        _modify { yield &storage.value.quotaRenews }
    }

    /// `quota_remaining`.
    public var quotaRemaining: Int64 {
        get { storage.value.quotaRemaining }
        _modify { yield &storage.value.quotaRemaining }
    }

    /// `quota_renewal_rate`: the quota window in seconds.
    public var quotaRenewalRate: Int64 {
        get { storage.value.quotaRenewalRate }
        _modify { yield &storage.value.quotaRenewalRate }
    }

    /// `access_rights`: API ID → what the key may do there.
    public var accessRights: [String: AccessDefinition] {
        get { storage.value.accessRights }
        _modify { yield &storage.value.accessRights }
    }

    /// `org_id`.
    public var orgID: String {
        get { storage.value.orgID }
        _modify { yield &storage.value.orgID }
    }

    /// `oauth_client_id`.
    public var oauthClientID: String {
        get { storage.value.oauthClientID }
        _modify { yield &storage.value.oauthClientID }
    }

    /// `oauth_keys`.
    public var oauthKeys: JSONValue {
        get { storage.value.oauthKeys }
        _modify { yield &storage.value.oauthKeys }
    }

    /// `certificate`.
    public var certificate: String {
        get { storage.value.certificate }
        _modify { yield &storage.value.certificate }
    }

    /// `mtls_static_certificate_bindings`.
    public var mtlsStaticCertificateBindings: JSONValue {
        get { storage.value.mtlsStaticCertificateBindings }
        _modify { yield &storage.value.mtlsStaticCertificateBindings }
    }

    /// `basic_auth_data`: `{password, hash_type}`.
    public var basicAuthData: JSONValue {
        get { storage.value.basicAuthData }
        _modify { yield &storage.value.basicAuthData }
    }

    /// `jwt_data`: `{secret}`.
    public var jwtData: JSONValue {
        get { storage.value.jwtData }
        _modify { yield &storage.value.jwtData }
    }

    /// `hmac_enabled`.
    public var hmacEnabled: Bool {
        get { storage.value.hmacEnabled }
        _modify { yield &storage.value.hmacEnabled }
    }

    /// `enable_http_signature_validation`.
    public var enableHTTPSignatureValidation: Bool {
        get { storage.value.enableHTTPSignatureValidation }
        _modify { yield &storage.value.enableHTTPSignatureValidation }
    }

    /// `hmac_string`.
    public var hmacString: String {
        get { storage.value.hmacString }
        _modify { yield &storage.value.hmacString }
    }

    /// `rsa_certificate_id`.
    public var rsaCertificateID: String {
        get { storage.value.rsaCertificateID }
        _modify { yield &storage.value.rsaCertificateID }
    }

    /// `is_inactive`: refused with 403 "Key is inactive, please renew".
    public var isInactive: Bool {
        get { storage.value.isInactive }
        _modify { yield &storage.value.isInactive }
    }

    /// `apply_policy_id` (legacy single policy).
    public var applyPolicyID: String {
        get { storage.value.applyPolicyID }
        _modify { yield &storage.value.applyPolicyID }
    }

    /// `apply_policies`.
    public var applyPolicies: [String] {
        get { storage.value.applyPolicies }
        _modify { yield &storage.value.applyPolicies }
    }

    /// `data_expires`.
    public var dataExpires: Int64 {
        get { storage.value.dataExpires }
        _modify { yield &storage.value.dataExpires }
    }

    /// `monitor`: `{trigger_limits}`.
    public var monitor: JSONValue {
        get { storage.value.monitor }
        _modify { yield &storage.value.monitor }
    }

    /// `enable_detail_recording` (deprecated spelling).
    public var enableDetailRecording: Bool {
        get { storage.value.enableDetailRecording }
        _modify { yield &storage.value.enableDetailRecording }
    }

    /// `enable_detailed_recording`.
    public var enableDetailedRecording: Bool {
        get { storage.value.enableDetailedRecording }
        _modify { yield &storage.value.enableDetailedRecording }
    }

    /// `meta_data`: any JSON members. Always encoded as an object, never
    /// null, so `session.meta_data.x` works in every plugin.
    public var metaData: [String: JSONValue] {
        get { storage.value.metaData }
        _modify { yield &storage.value.metaData }
    }

    /// `tags`.
    public var tags: [String] {
        get { storage.value.tags }
        _modify { yield &storage.value.tags }
    }

    /// `alias`.
    public var alias: String {
        get { storage.value.alias }
        _modify { yield &storage.value.alias }
    }

    /// `last_updated`: Unix seconds as a string, as Tyk writes it.
    public var lastUpdated: String {
        get { storage.value.lastUpdated }
        _modify { yield &storage.value.lastUpdated }
    }

    /// `id_extractor_deadline`.
    public var idExtractorDeadline: Int64 {
        get { storage.value.idExtractorDeadline }
        _modify { yield &storage.value.idExtractorDeadline }
    }

    /// `session_lifetime`: key-level store lifetime in seconds.
    public var sessionLifetime: Int64 {
        get { storage.value.sessionLifetime }
        _modify { yield &storage.value.sessionLifetime }
    }

    /// `post_expiry_action`: "", "retain" or "delete" (Tyk ≥ 5.13).
    public var postExpiryAction: String {
        get { storage.value.postExpiryAction }
        _modify { yield &storage.value.postExpiryAction }
    }

    /// `post_expiry_grace_period`: seconds kept after `expires` with "retain"; -1 forever.
    public var postExpiryGracePeriod: Int64 {
        get { storage.value.postExpiryGracePeriod }
        _modify { yield &storage.value.postExpiryGracePeriod }
    }

    /// `smoothing`: rate-limit smoothing settings.
    public var smoothing: JSONValue {
        get { storage.value.smoothing }
        _modify { yield &storage.value.smoothing }
    }

    /// Members this type does not model, written back unchanged (a project
    /// choice: Tyk itself drops them).
    public var unknownFields: [String: JSONValue] {
        get { storage.value.unknownFields }
        _modify { yield &storage.value.unknownFields }
    }

    /// Creates an empty session (every field at its zero value).
    public init() {
        storage = CopyOnWrite(Fields())
    }

    /// Sessions are equal when every field is.
    public static func == (lhs: SessionState, rhs: SessionState) -> Bool {
        lhs.storage == rhs.storage
    }

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
