import Foundation
import PortcullisCore

extension SessionState {
    /// Store-level fields that are not part of the session (the record
    /// version) and are dropped on decode.
    static let reservedFields: Set<String> = [StoredSession.versionField]

    /// Decodes Tyk session JSON text; throws ``SessionDecodingError`` naming
    /// the field and the reason. Integer fields refuse numbers with a
    /// fraction (`Date.now()/1000`); unlike Go, a whole number written in
    /// float syntax (`1.7e9`, `1700000000.0`) is accepted as that integer.
    /// Fields are read in text order, so of several bad ones the first is
    /// named, and a repeated name ends with its last value.
    public init(jsonText: String) throws {
        let top: JSONReader.TopLevel
        do {
            top = try JSONReader.parseMembers(jsonText)
        } catch {
            throw SessionDecodingError.notJSON(reason: Self.shortReason(error))
        }
        switch top {
        case .object(let members): try self.init(members: members)
        case .other(let value): throw SessionDecodingError.notAnObject(found: value.typeDescription)
        }
    }

    /// Decodes an already-parsed JSON value; its fields are read in the
    /// byte order of their names.
    public init(json value: JSONValue) throws {
        guard case .object(let object) = value else {
            throw SessionDecodingError.notAnObject(found: value.typeDescription)
        }
        try self.init(members: object.sorted { ByteOrder.precedes($0.key, $1.key) }.map { (name: $0.key, value: $0.value) })
    }

    /// Assigns each member to its property as it comes; a field absent
    /// keeps the empty session's value, a `null` reads as the field's zero
    /// value (raw JSON fields keep the null), as Go's decoder does.
    private init(members: [(name: String, value: JSONValue)]) throws {
        self.init()
        var unknown: [String: JSONValue] = [:]
        for (name, value) in members {
            guard let decode = Self.decoders[name] else {
                if !Self.reservedFields.contains(name) { unknown[name] = value }
                continue
            }
            try decode(&self, Member(name: name, value: value))
        }
        switch postExpiryAction {
        case "", "retain", "delete": break
        default:
            throw SessionDecodingError.wrongType(field: "post_expiry_action", expected: "\"retain\" or \"delete\"", found: "\"\(postExpiryAction)\"")
        }
        unknownFields = unknown
    }

    /// One member of the text being decoded, read as the type its field
    /// has: a `null` reads as that type's zero value, and a wrong type is
    /// an error naming the field.
    private struct Member {
        let name: String
        let value: JSONValue
        private typealias Read = JSONFieldReader

        private var isNull: Bool {
            if case .null = value { return true }
            return false
        }

        func int(_ meaning: String = "an integer") throws -> Int64 { isNull ? 0 : try Read.int(value, field: name, meaning: meaning) }
        func double() throws -> Double { isNull ? 0 : try Read.double(value, field: name) }
        func string() throws -> String { isNull ? "" : try Read.string(value, field: name) }
        func bool() throws -> Bool { isNull ? false : try Read.bool(value, field: name) }
        func strings() throws -> [String] { isNull ? [] : try Read.strings(value, field: name) }
        func object() throws -> [String: JSONValue] { isNull ? [:] : try Read.object(value, field: name) }
        /// Raw JSON of the one shape `allowed`; a `null` stays null.
        func raw(_ allowed: String) throws -> JSONValue { try Read.raw(value, field: name, allowed: allowed) }

        func accessRights() throws -> [String: AccessDefinition] {
            var rights: [String: AccessDefinition] = [:]
            for (apiID, entry) in try object() {
                guard case .object(let members) = entry else {
                    throw SessionDecodingError.wrongType(field: "\(name).\(apiID)", expected: "an object", found: entry.typeDescription)
                }
                rights[apiID] = try AccessDefinition(json: members, path: "\(name).\(apiID)")
            }
            return rights
        }
    }

    /// Every field of Tyk's session struct, by JSON name: how it is read
    /// from a member (decoding) and written as a value (``json`` builds
    /// from these; ``jsonText()`` writes the same fields itself, in byte order).
    private struct Field: Sendable {
        let name: String
        let decode: @Sendable (inout SessionState, Member) throws -> Void
        let value: @Sendable (SessionState) -> JSONValue
        init(_ name: String, decode: @escaping @Sendable (inout SessionState, Member) throws -> Void,
             value: @escaping @Sendable (SessionState) -> JSONValue) {
            self.name = name
            self.decode = decode
            self.value = value
        }
    }

    /// The decoders of ``fieldTable`` by name, for one lookup per member.
    private static let decoders: [String: @Sendable (inout SessionState, Member) throws -> Void] =
        Dictionary(uniqueKeysWithValues: fieldTable.map { ($0.name, $0.decode) })

    private static let fieldTable: [Field] = [
        Field("last_check", decode: { $0.lastCheck = try $1.int() }, value: { .int($0.lastCheck) }),
        Field("allowance", decode: { $0.allowance = try $1.double() }, value: { SessionState.number($0.allowance) }),
        Field("rate", decode: { $0.rate = try $1.double() }, value: { SessionState.number($0.rate) }),
        Field("per", decode: { $0.per = try $1.double() }, value: { SessionState.number($0.per) }),
        Field("throttle_interval", decode: { $0.throttleInterval = try $1.double() }, value: { SessionState.number($0.throttleInterval) }),
        Field("throttle_retry_limit", decode: { $0.throttleRetryLimit = try $1.int() }, value: { .int($0.throttleRetryLimit) }),
        Field("max_query_depth", decode: { $0.maxQueryDepth = try $1.int() }, value: { .int($0.maxQueryDepth) }),
        Field("date_created", decode: { $0.dateCreated = try $1.string() }, value: { .string($0.dateCreated) }),
        Field("expires", decode: { $0.expires = try $1.int("an integer number of Unix seconds") }, value: { .int($0.expires) }),
        Field("quota_max", decode: { $0.quotaMax = try $1.int() }, value: { .int($0.quotaMax) }),
        Field("quota_renews", decode: { $0.quotaRenews = try $1.int("an integer number of Unix seconds") }, value: { .int($0.quotaRenews) }),
        Field("quota_remaining", decode: { $0.quotaRemaining = try $1.int() }, value: { .int($0.quotaRemaining) }),
        Field("quota_renewal_rate", decode: { $0.quotaRenewalRate = try $1.int("an integer number of seconds") }, value: { .int($0.quotaRenewalRate) }),
        Field("access_rights", decode: { $0.accessRights = try $1.accessRights() }, value: { .object($0.accessRights.mapValues(\.json)) }),
        Field("org_id", decode: { $0.orgID = try $1.string() }, value: { .string($0.orgID) }),
        Field("oauth_client_id", decode: { $0.oauthClientID = try $1.string() }, value: { .string($0.oauthClientID) }),
        Field("oauth_keys", decode: { $0.oauthKeys = try $1.raw("an object") }, value: { $0.oauthKeys }),
        Field("certificate", decode: { $0.certificate = try $1.string() }, value: { .string($0.certificate) }),
        Field("mtls_static_certificate_bindings", decode: { $0.mtlsStaticCertificateBindings = try $1.raw("an array") }, value: { $0.mtlsStaticCertificateBindings }),
        Field("basic_auth_data", decode: { $0.basicAuthData = try $1.raw("an object") }, value: { $0.basicAuthData }),
        Field("jwt_data", decode: { $0.jwtData = try $1.raw("an object") }, value: { $0.jwtData }),
        Field("hmac_enabled", decode: { $0.hmacEnabled = try $1.bool() }, value: { .bool($0.hmacEnabled) }),
        Field("enable_http_signature_validation", decode: { $0.enableHTTPSignatureValidation = try $1.bool() }, value: { .bool($0.enableHTTPSignatureValidation) }),
        Field("hmac_string", decode: { $0.hmacString = try $1.string() }, value: { .string($0.hmacString) }),
        Field("rsa_certificate_id", decode: { $0.rsaCertificateID = try $1.string() }, value: { .string($0.rsaCertificateID) }),
        Field("is_inactive", decode: { $0.isInactive = try $1.bool() }, value: { .bool($0.isInactive) }),
        Field("apply_policy_id", decode: { $0.applyPolicyID = try $1.string() }, value: { .string($0.applyPolicyID) }),
        Field("apply_policies", decode: { $0.applyPolicies = try $1.strings() }, value: { .array($0.applyPolicies.map { .string($0) }) }),
        Field("data_expires", decode: { $0.dataExpires = try $1.int() }, value: { .int($0.dataExpires) }),
        Field("monitor", decode: { $0.monitor = try $1.raw("an object") }, value: { $0.monitor }),
        Field("enable_detail_recording", decode: { $0.enableDetailRecording = try $1.bool() }, value: { .bool($0.enableDetailRecording) }),
        Field("enable_detailed_recording", decode: { $0.enableDetailedRecording = try $1.bool() }, value: { .bool($0.enableDetailedRecording) }),
        Field("meta_data", decode: { $0.metaData = try $1.object() }, value: { .object($0.metaData) }),
        Field("tags", decode: { $0.tags = try $1.strings() }, value: { .array($0.tags.map { .string($0) }) }),
        Field("alias", decode: { $0.alias = try $1.string() }, value: { .string($0.alias) }),
        Field("last_updated", decode: { $0.lastUpdated = try $1.string() }, value: { .string($0.lastUpdated) }),
        Field("id_extractor_deadline", decode: { $0.idExtractorDeadline = try $1.int() }, value: { .int($0.idExtractorDeadline) }),
        Field("session_lifetime", decode: { $0.sessionLifetime = try $1.int("an integer number of seconds") }, value: { .int($0.sessionLifetime) }),
        Field("post_expiry_action", decode: { $0.postExpiryAction = try $1.string() }, value: { .string($0.postExpiryAction) }),
        Field("post_expiry_grace_period", decode: { $0.postExpiryGracePeriod = try $1.int("an integer number of seconds") }, value: { .int($0.postExpiryGracePeriod) }),
        Field("smoothing", decode: { $0.smoothing = try $1.raw("an object") }, value: { $0.smoothing }),
    ].sorted { ByteOrder.precedes($0.name, $1.name) }

    /// The session as a JSON value in Tyk's pre-5.12 "every key present"
    /// form; `meta_data`, `access_rights`, `tags` and `apply_policies` are
    /// `{}`/`[]` when empty, never null.
    public var json: JSONValue {
        var o = unknownFields
        for field in Self.fieldTable { o[field.name] = field.value(self) }
        return .object(o)
    }

    /// The session as compact JSON text with sorted keys, byte for byte
    /// what ``json`` serialises to. Written straight into bytes in the
    /// fixed order of the names, without building a JSON value for the
    /// scalar fields (a write or a cache miss renders a session each time);
    /// only a session that carries fields Tyk's struct does not know goes
    /// through a sorted ``json`` object.
    public func jsonText() -> String {
        guard unknownFields.isEmpty else { return json.jsonString() }
        var out = SessionJSONWriter()
        out.open()
        out.field("access_rights") { o in
            o.object(accessRights) { o, entry in entry.writeJSON(into: &o) }
        }
        out.field("alias", alias)
        out.field("allowance", Self.number(allowance))
        out.field("apply_policies", applyPolicies)
        out.field("apply_policy_id", applyPolicyID)
        out.field("basic_auth_data", basicAuthData)
        out.field("certificate", certificate)
        out.field("data_expires", dataExpires)
        out.field("date_created", dateCreated)
        out.field("enable_detail_recording", enableDetailRecording)
        out.field("enable_detailed_recording", enableDetailedRecording)
        out.field("enable_http_signature_validation", enableHTTPSignatureValidation)
        out.field("expires", expires)
        out.field("hmac_enabled", hmacEnabled)
        out.field("hmac_string", hmacString)
        out.field("id_extractor_deadline", idExtractorDeadline)
        out.field("is_inactive", isInactive)
        out.field("jwt_data", jwtData)
        out.field("last_check", lastCheck)
        out.field("last_updated", lastUpdated)
        out.field("max_query_depth", maxQueryDepth)
        out.field("meta_data", JSONValue.object(metaData))
        out.field("monitor", monitor)
        out.field("mtls_static_certificate_bindings", mtlsStaticCertificateBindings)
        out.field("oauth_client_id", oauthClientID)
        out.field("oauth_keys", oauthKeys)
        out.field("org_id", orgID)
        out.field("per", Self.number(per))
        out.field("post_expiry_action", postExpiryAction)
        out.field("post_expiry_grace_period", postExpiryGracePeriod)
        out.field("quota_max", quotaMax)
        out.field("quota_remaining", quotaRemaining)
        out.field("quota_renewal_rate", quotaRenewalRate)
        out.field("quota_renews", quotaRenews)
        out.field("rate", Self.number(rate))
        out.field("rsa_certificate_id", rsaCertificateID)
        out.field("session_lifetime", sessionLifetime)
        out.field("smoothing", smoothing)
        out.field("tags", tags)
        out.field("throttle_interval", Self.number(throttleInterval))
        out.field("throttle_retry_limit", throttleRetryLimit)
        return out.close()
    }

    /// Whole numbers are written without a fraction, as Go writes floats.
    static func number(_ value: Double) -> JSONValue {
        if value == value.rounded(), abs(value) < 9e15 { return .int(Int64(value)) }
        return .double(value)
    }

    private static func shortReason(_ error: Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            if let underlying = context.underlyingError as NSError?,
               let detail = underlying.userInfo[NSDebugDescriptionErrorKey] as? String {
                return detail
            }
            return context.debugDescription
        }
        return String(describing: error)
    }
}
