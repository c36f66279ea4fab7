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

    /// One session's fields, shared by its copies until one writes.
    /// Unchecked `Sendable`, and no dynamic exclusivity checks: a storage
    /// is only changed through a session that holds the sole reference to
    /// it, so no access can overlap a change.
    private final class Storage: @unchecked Sendable {
        @exclusivity(unchecked) var fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private var storage: Storage

    /// Gives this copy storage of its own before it changes a field.
    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.fields) }
    }

    /// `last_check`.
    public var lastCheck: Int64 {
        get { storage.fields.lastCheck }
        _modify {
            makeUnique()
            yield &storage.fields.lastCheck
        }
    }

    /// `allowance`: rate-limit allowance.
    public var allowance: Double {
        get { storage.fields.allowance }
        _modify {
            makeUnique()
            yield &storage.fields.allowance
        }
    }

    /// `rate`: requests per `per` seconds.
    public var rate: Double {
        get { storage.fields.rate }
        _modify {
            makeUnique()
            yield &storage.fields.rate
        }
    }

    /// `per`: the rate window in seconds.
    public var per: Double {
        get { storage.fields.per }
        _modify {
            makeUnique()
            yield &storage.fields.per
        }
    }

    /// `throttle_interval`.
    public var throttleInterval: Double {
        get { storage.fields.throttleInterval }
        _modify {
            makeUnique()
            yield &storage.fields.throttleInterval
        }
    }

    /// `throttle_retry_limit`.
    public var throttleRetryLimit: Int64 {
        get { storage.fields.throttleRetryLimit }
        _modify {
            makeUnique()
            yield &storage.fields.throttleRetryLimit
        }
    }

    /// `max_query_depth`.
    public var maxQueryDepth: Int64 {
        get { storage.fields.maxQueryDepth }
        _modify {
            makeUnique()
            yield &storage.fields.maxQueryDepth
        }
    }

    /// `date_created`: an RFC 3339 time, kept as text.
    public var dateCreated: String {
        get { storage.fields.dateCreated }
        _modify {
            makeUnique()
            yield &storage.fields.dateCreated
        }
    }

    /// `expires`: Unix seconds after which the key is refused with 401
    /// "Key has expired, please renew"; 0 or less never expires. Logical
    /// expiry only: it does not delete the record (see ``LifetimePolicy``).
    public var expires: Int64 {
        get { storage.fields.expires }
        _modify {
            makeUnique()
            yield &storage.fields.expires
        }
    }

    /// `quota_max`: requests per quota window; -1 unlimited, 0 no quota.
    public var quotaMax: Int64 {
        get { storage.fields.quotaMax }
        _modify {
            makeUnique()
            yield &storage.fields.quotaMax
        }
    }

    /// `quota_renews`: Unix seconds when the current quota window ends.
    public var quotaRenews: Int64 {
        get { storage.fields.quotaRenews }
        _modify {
            makeUnique()
            yield &storage.fields.quotaRenews
        }
    }

    /// `quota_remaining`.
    public var quotaRemaining: Int64 {
        get { storage.fields.quotaRemaining }
        _modify {
            makeUnique()
            yield &storage.fields.quotaRemaining
        }
    }

    /// `quota_renewal_rate`: the quota window in seconds.
    public var quotaRenewalRate: Int64 {
        get { storage.fields.quotaRenewalRate }
        _modify {
            makeUnique()
            yield &storage.fields.quotaRenewalRate
        }
    }

    /// `access_rights`: API ID → what the key may do there.
    public var accessRights: [String: AccessDefinition] {
        get { storage.fields.accessRights }
        _modify {
            makeUnique()
            yield &storage.fields.accessRights
        }
    }

    /// `org_id`.
    public var orgID: String {
        get { storage.fields.orgID }
        _modify {
            makeUnique()
            yield &storage.fields.orgID
        }
    }

    /// `oauth_client_id`.
    public var oauthClientID: String {
        get { storage.fields.oauthClientID }
        _modify {
            makeUnique()
            yield &storage.fields.oauthClientID
        }
    }

    /// `oauth_keys`.
    public var oauthKeys: JSONValue {
        get { storage.fields.oauthKeys }
        _modify {
            makeUnique()
            yield &storage.fields.oauthKeys
        }
    }

    /// `certificate`.
    public var certificate: String {
        get { storage.fields.certificate }
        _modify {
            makeUnique()
            yield &storage.fields.certificate
        }
    }

    /// `mtls_static_certificate_bindings`.
    public var mtlsStaticCertificateBindings: JSONValue {
        get { storage.fields.mtlsStaticCertificateBindings }
        _modify {
            makeUnique()
            yield &storage.fields.mtlsStaticCertificateBindings
        }
    }

    /// `basic_auth_data`: `{password, hash_type}`.
    public var basicAuthData: JSONValue {
        get { storage.fields.basicAuthData }
        _modify {
            makeUnique()
            yield &storage.fields.basicAuthData
        }
    }

    /// `jwt_data`: `{secret}`.
    public var jwtData: JSONValue {
        get { storage.fields.jwtData }
        _modify {
            makeUnique()
            yield &storage.fields.jwtData
        }
    }

    /// `hmac_enabled`.
    public var hmacEnabled: Bool {
        get { storage.fields.hmacEnabled }
        _modify {
            makeUnique()
            yield &storage.fields.hmacEnabled
        }
    }

    /// `enable_http_signature_validation`.
    public var enableHTTPSignatureValidation: Bool {
        get { storage.fields.enableHTTPSignatureValidation }
        _modify {
            makeUnique()
            yield &storage.fields.enableHTTPSignatureValidation
        }
    }

    /// `hmac_string`.
    public var hmacString: String {
        get { storage.fields.hmacString }
        _modify {
            makeUnique()
            yield &storage.fields.hmacString
        }
    }

    /// `rsa_certificate_id`.
    public var rsaCertificateID: String {
        get { storage.fields.rsaCertificateID }
        _modify {
            makeUnique()
            yield &storage.fields.rsaCertificateID
        }
    }

    /// `is_inactive`: refused with 403 "Key is inactive, please renew".
    public var isInactive: Bool {
        get { storage.fields.isInactive }
        _modify {
            makeUnique()
            yield &storage.fields.isInactive
        }
    }

    /// `apply_policy_id` (legacy single policy).
    public var applyPolicyID: String {
        get { storage.fields.applyPolicyID }
        _modify {
            makeUnique()
            yield &storage.fields.applyPolicyID
        }
    }

    /// `apply_policies`.
    public var applyPolicies: [String] {
        get { storage.fields.applyPolicies }
        _modify {
            makeUnique()
            yield &storage.fields.applyPolicies
        }
    }

    /// `data_expires`.
    public var dataExpires: Int64 {
        get { storage.fields.dataExpires }
        _modify {
            makeUnique()
            yield &storage.fields.dataExpires
        }
    }

    /// `monitor`: `{trigger_limits}`.
    public var monitor: JSONValue {
        get { storage.fields.monitor }
        _modify {
            makeUnique()
            yield &storage.fields.monitor
        }
    }

    /// `enable_detail_recording` (deprecated spelling).
    public var enableDetailRecording: Bool {
        get { storage.fields.enableDetailRecording }
        _modify {
            makeUnique()
            yield &storage.fields.enableDetailRecording
        }
    }

    /// `enable_detailed_recording`.
    public var enableDetailedRecording: Bool {
        get { storage.fields.enableDetailedRecording }
        _modify {
            makeUnique()
            yield &storage.fields.enableDetailedRecording
        }
    }

    /// `meta_data`: any JSON members. Always encoded as an object, never
    /// null, so `session.meta_data.x` works in every plugin.
    public var metaData: [String: JSONValue] {
        get { storage.fields.metaData }
        _modify {
            makeUnique()
            yield &storage.fields.metaData
        }
    }

    /// `tags`.
    public var tags: [String] {
        get { storage.fields.tags }
        _modify {
            makeUnique()
            yield &storage.fields.tags
        }
    }

    /// `alias`.
    public var alias: String {
        get { storage.fields.alias }
        _modify {
            makeUnique()
            yield &storage.fields.alias
        }
    }

    /// `last_updated`: Unix seconds as a string, as Tyk writes it.
    public var lastUpdated: String {
        get { storage.fields.lastUpdated }
        _modify {
            makeUnique()
            yield &storage.fields.lastUpdated
        }
    }

    /// `id_extractor_deadline`.
    public var idExtractorDeadline: Int64 {
        get { storage.fields.idExtractorDeadline }
        _modify {
            makeUnique()
            yield &storage.fields.idExtractorDeadline
        }
    }

    /// `session_lifetime`: key-level store lifetime in seconds.
    public var sessionLifetime: Int64 {
        get { storage.fields.sessionLifetime }
        _modify {
            makeUnique()
            yield &storage.fields.sessionLifetime
        }
    }

    /// `post_expiry_action`: "", "retain" or "delete" (Tyk ≥ 5.13).
    public var postExpiryAction: String {
        get { storage.fields.postExpiryAction }
        _modify {
            makeUnique()
            yield &storage.fields.postExpiryAction
        }
    }

    /// `post_expiry_grace_period`: seconds kept after `expires` with "retain"; -1 forever.
    public var postExpiryGracePeriod: Int64 {
        get { storage.fields.postExpiryGracePeriod }
        _modify {
            makeUnique()
            yield &storage.fields.postExpiryGracePeriod
        }
    }

    /// `smoothing`: rate-limit smoothing settings.
    public var smoothing: JSONValue {
        get { storage.fields.smoothing }
        _modify {
            makeUnique()
            yield &storage.fields.smoothing
        }
    }

    /// Members this type does not model, written back unchanged (a project
    /// choice: Tyk itself drops them).
    public var unknownFields: [String: JSONValue] {
        get { storage.fields.unknownFields }
        _modify {
            makeUnique()
            yield &storage.fields.unknownFields
        }
    }

    /// Creates an empty session (every field at its zero value).
    public init() {
        storage = Storage(Fields())
    }

    /// Sessions are equal when every field is.
    public static func == (lhs: SessionState, rhs: SessionState) -> Bool {
        lhs.storage === rhs.storage || lhs.storage.fields == rhs.storage.fields
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
