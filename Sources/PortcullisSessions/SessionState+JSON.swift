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
    public init(jsonText: String) throws {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: jsonText)
        } catch {
            throw SessionDecodingError.notJSON(reason: Self.shortReason(error))
        }
        try self.init(json: value)
    }

    /// Decodes an already-parsed JSON value.
    public init(json value: JSONValue) throws {
        guard case .object(var object) = value else {
            throw SessionDecodingError.notAnObject(found: value.typeDescription)
        }
        for field in Self.reservedFields { object.removeValue(forKey: field) }
        var r = JSONFieldReader(object)
        self.init()
        lastCheck = try r.int("last_check")
        allowance = try r.double("allowance")
        rate = try r.double("rate")
        per = try r.double("per")
        throttleInterval = try r.double("throttle_interval")
        throttleRetryLimit = try r.int("throttle_retry_limit")
        maxQueryDepth = try r.int("max_query_depth")
        dateCreated = try r.string("date_created")
        expires = try r.int("expires", meaning: "an integer number of Unix seconds")
        quotaMax = try r.int("quota_max")
        quotaRenews = try r.int("quota_renews", meaning: "an integer number of Unix seconds")
        quotaRemaining = try r.int("quota_remaining")
        quotaRenewalRate = try r.int("quota_renewal_rate", meaning: "an integer number of seconds")
        var rights: [String: AccessDefinition] = [:]
        for (apiID, entry) in try r.object("access_rights") {
            guard case .object(let members) = entry else {
                throw SessionDecodingError.wrongType(field: "access_rights.\(apiID)", expected: "an object", found: entry.typeDescription)
            }
            rights[apiID] = try AccessDefinition(json: members, path: "access_rights.\(apiID)")
        }
        accessRights = rights
        orgID = try r.string("org_id")
        oauthClientID = try r.string("oauth_client_id")
        oauthKeys = try r.raw("oauth_keys", default: .null, allowed: "an object")
        certificate = try r.string("certificate")
        mtlsStaticCertificateBindings = try r.raw("mtls_static_certificate_bindings", default: .null, allowed: "an array")
        basicAuthData = try r.raw("basic_auth_data", default: basicAuthData, allowed: "an object")
        jwtData = try r.raw("jwt_data", default: jwtData, allowed: "an object")
        hmacEnabled = try r.bool("hmac_enabled")
        enableHTTPSignatureValidation = try r.bool("enable_http_signature_validation")
        hmacString = try r.string("hmac_string")
        rsaCertificateID = try r.string("rsa_certificate_id")
        isInactive = try r.bool("is_inactive")
        applyPolicyID = try r.string("apply_policy_id")
        applyPolicies = try r.strings("apply_policies")
        dataExpires = try r.int("data_expires")
        monitor = try r.raw("monitor", default: monitor, allowed: "an object")
        enableDetailRecording = try r.bool("enable_detail_recording")
        enableDetailedRecording = try r.bool("enable_detailed_recording")
        metaData = try r.object("meta_data")
        tags = try r.strings("tags")
        alias = try r.string("alias")
        lastUpdated = try r.string("last_updated")
        idExtractorDeadline = try r.int("id_extractor_deadline")
        sessionLifetime = try r.int("session_lifetime", meaning: "an integer number of seconds")
        postExpiryAction = try r.string("post_expiry_action")
        switch postExpiryAction {
        case "", "retain", "delete": break
        default:
            throw SessionDecodingError.wrongType(field: "post_expiry_action", expected: "\"retain\" or \"delete\"", found: "\"\(postExpiryAction)\"")
        }
        postExpiryGracePeriod = try r.int("post_expiry_grace_period", meaning: "an integer number of seconds")
        smoothing = try r.raw("smoothing", default: .null, allowed: "an object")
        unknownFields = r.unread
    }

    /// Every field the session writes, by name: ``json`` builds from it.
    /// (``jsonText()`` writes the same fields itself, in byte order.)
    private struct Field: Sendable {
        let name: String
        let value: @Sendable (SessionState) -> JSONValue
        init(_ name: String, _ value: @escaping @Sendable (SessionState) -> JSONValue) {
            self.name = name
            self.value = value
        }
    }

    private static let fieldTable: [Field] = [
        Field("last_check") { .int($0.lastCheck) },
        Field("allowance") { SessionState.number($0.allowance) },
        Field("rate") { SessionState.number($0.rate) },
        Field("per") { SessionState.number($0.per) },
        Field("throttle_interval") { SessionState.number($0.throttleInterval) },
        Field("throttle_retry_limit") { .int($0.throttleRetryLimit) },
        Field("max_query_depth") { .int($0.maxQueryDepth) },
        Field("date_created") { .string($0.dateCreated) },
        Field("expires") { .int($0.expires) },
        Field("quota_max") { .int($0.quotaMax) },
        Field("quota_renews") { .int($0.quotaRenews) },
        Field("quota_remaining") { .int($0.quotaRemaining) },
        Field("quota_renewal_rate") { .int($0.quotaRenewalRate) },
        Field("access_rights") { .object($0.accessRights.mapValues(\.json)) },
        Field("org_id") { .string($0.orgID) },
        Field("oauth_client_id") { .string($0.oauthClientID) },
        Field("oauth_keys") { $0.oauthKeys },
        Field("certificate") { .string($0.certificate) },
        Field("mtls_static_certificate_bindings") { $0.mtlsStaticCertificateBindings },
        Field("basic_auth_data") { $0.basicAuthData },
        Field("jwt_data") { $0.jwtData },
        Field("hmac_enabled") { .bool($0.hmacEnabled) },
        Field("enable_http_signature_validation") { .bool($0.enableHTTPSignatureValidation) },
        Field("hmac_string") { .string($0.hmacString) },
        Field("rsa_certificate_id") { .string($0.rsaCertificateID) },
        Field("is_inactive") { .bool($0.isInactive) },
        Field("apply_policy_id") { .string($0.applyPolicyID) },
        Field("apply_policies") { .array($0.applyPolicies.map { .string($0) }) },
        Field("data_expires") { .int($0.dataExpires) },
        Field("monitor") { $0.monitor },
        Field("enable_detail_recording") { .bool($0.enableDetailRecording) },
        Field("enable_detailed_recording") { .bool($0.enableDetailedRecording) },
        Field("meta_data") { .object($0.metaData) },
        Field("tags") { .array($0.tags.map { .string($0) }) },
        Field("alias") { .string($0.alias) },
        Field("last_updated") { .string($0.lastUpdated) },
        Field("id_extractor_deadline") { .int($0.idExtractorDeadline) },
        Field("session_lifetime") { .int($0.sessionLifetime) },
        Field("post_expiry_action") { .string($0.postExpiryAction) },
        Field("post_expiry_grace_period") { .int($0.postExpiryGracePeriod) },
        Field("smoothing") { $0.smoothing },
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
            o.append(UInt8(ascii: "{"))
            for (offset, apiID) in accessRights.keys.sorted(by: ByteOrder.precedes).enumerated() {
                if offset > 0 { o.append(UInt8(ascii: ",")) }
                JSONValue.writeString(apiID, into: &o)
                o.append(UInt8(ascii: ":"))
                accessRights[apiID]?.writeJSON(into: &o)
            }
            o.append(UInt8(ascii: "}"))
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
