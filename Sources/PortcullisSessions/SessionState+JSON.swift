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
        oauthKeys = try r.raw("oauth_keys", default: .null, allowed: ["an object"])
        certificate = try r.string("certificate")
        mtlsStaticCertificateBindings = try r.raw("mtls_static_certificate_bindings", default: .null, allowed: ["an array"])
        basicAuthData = try r.raw("basic_auth_data", default: basicAuthData, allowed: ["an object"])
        jwtData = try r.raw("jwt_data", default: jwtData, allowed: ["an object"])
        hmacEnabled = try r.bool("hmac_enabled")
        enableHTTPSignatureValidation = try r.bool("enable_http_signature_validation")
        hmacString = try r.string("hmac_string")
        rsaCertificateID = try r.string("rsa_certificate_id")
        isInactive = try r.bool("is_inactive")
        applyPolicyID = try r.string("apply_policy_id")
        applyPolicies = try r.strings("apply_policies")
        dataExpires = try r.int("data_expires")
        monitor = try r.raw("monitor", default: monitor, allowed: ["an object"])
        enableDetailRecording = try r.bool("enable_detail_recording")
        enableDetailedRecording = try r.bool("enable_detailed_recording")
        metaData = try r.object("meta_data")
        tags = try r.strings("tags")
        alias = try r.string("alias")
        lastUpdated = try r.string("last_updated")
        idExtractorDeadline = try r.int("id_extractor_deadline")
        sessionLifetime = try r.int("session_lifetime", meaning: "an integer number of seconds")
        postExpiryAction = try r.string("post_expiry_action")
        guard ["", "retain", "delete"].contains(postExpiryAction) else {
            throw SessionDecodingError.wrongType(field: "post_expiry_action", expected: "\"retain\" or \"delete\"", found: "\"\(postExpiryAction)\"")
        }
        postExpiryGracePeriod = try r.int("post_expiry_grace_period", meaning: "an integer number of seconds")
        smoothing = try r.raw("smoothing", default: .null, allowed: ["an object"])
        unknownFields = r.unread
    }

    /// The session as a JSON value in Tyk's pre-5.12 "every key present"
    /// form; `meta_data`, `access_rights`, `tags` and `apply_policies` are
    /// `{}`/`[]` when empty, never null.
    public var json: JSONValue {
        var o = unknownFields
        o["last_check"] = .int(lastCheck)
        o["allowance"] = Self.number(allowance)
        o["rate"] = Self.number(rate)
        o["per"] = Self.number(per)
        o["throttle_interval"] = Self.number(throttleInterval)
        o["throttle_retry_limit"] = .int(throttleRetryLimit)
        o["max_query_depth"] = .int(maxQueryDepth)
        o["date_created"] = .string(dateCreated)
        o["expires"] = .int(expires)
        o["quota_max"] = .int(quotaMax)
        o["quota_renews"] = .int(quotaRenews)
        o["quota_remaining"] = .int(quotaRemaining)
        o["quota_renewal_rate"] = .int(quotaRenewalRate)
        o["access_rights"] = .object(accessRights.mapValues(\.json))
        o["org_id"] = .string(orgID)
        o["oauth_client_id"] = .string(oauthClientID)
        o["oauth_keys"] = oauthKeys
        o["certificate"] = .string(certificate)
        o["mtls_static_certificate_bindings"] = mtlsStaticCertificateBindings
        o["basic_auth_data"] = basicAuthData
        o["jwt_data"] = jwtData
        o["hmac_enabled"] = .bool(hmacEnabled)
        o["enable_http_signature_validation"] = .bool(enableHTTPSignatureValidation)
        o["hmac_string"] = .string(hmacString)
        o["rsa_certificate_id"] = .string(rsaCertificateID)
        o["is_inactive"] = .bool(isInactive)
        o["apply_policy_id"] = .string(applyPolicyID)
        o["apply_policies"] = .array(applyPolicies.map { .string($0) })
        o["data_expires"] = .int(dataExpires)
        o["monitor"] = monitor
        o["enable_detail_recording"] = .bool(enableDetailRecording)
        o["enable_detailed_recording"] = .bool(enableDetailedRecording)
        o["meta_data"] = .object(metaData)
        o["tags"] = .array(tags.map { .string($0) })
        o["alias"] = .string(alias)
        o["last_updated"] = .string(lastUpdated)
        o["id_extractor_deadline"] = .int(idExtractorDeadline)
        o["session_lifetime"] = .int(sessionLifetime)
        o["post_expiry_action"] = .string(postExpiryAction)
        o["post_expiry_grace_period"] = .int(postExpiryGracePeriod)
        o["smoothing"] = smoothing
        return .object(o)
    }

    /// The session as compact JSON text with sorted keys.
    public func jsonText() -> String {
        json.jsonString()
    }

    /// Whole numbers are written without a fraction, as Go writes floats.
    private static func number(_ value: Double) -> JSONValue {
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
