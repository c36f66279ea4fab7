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
            guard let field = Self.decodedFields[name] else {
                if !Self.reservedFields.contains(name) { unknown[name] = value }
                continue
            }
            try decode(field, name, value)
        }
        switch postExpiryAction {
        case "", "retain", "delete": break
        default:
            throw SessionDecodingError.wrongType(field: "post_expiry_action", expected: "\"retain\" or \"delete\"", found: "\"\(postExpiryAction)\"")
        }
        unknownFields = unknown
    }

    /// The fields Tyk's session struct has, by JSON name.
    private enum DecodedField {
        case lastCheck, allowance, rate, per, throttleInterval, throttleRetryLimit, maxQueryDepth, dateCreated
        case expires, quotaMax, quotaRenews, quotaRemaining, quotaRenewalRate, accessRights, orgID, oauthClientID
        case oauthKeys, certificate, mtlsStaticCertificateBindings, basicAuthData, jwtData, hmacEnabled
        case enableHTTPSignatureValidation, hmacString, rsaCertificateID, isInactive, applyPolicyID, applyPolicies
        case dataExpires, monitor, enableDetailRecording, enableDetailedRecording, metaData, tags, alias, lastUpdated
        case idExtractorDeadline, sessionLifetime, postExpiryAction, postExpiryGracePeriod, smoothing
    }

    private static let decodedFields: [String: DecodedField] = [
        "last_check": .lastCheck, "allowance": .allowance, "rate": .rate, "per": .per,
        "throttle_interval": .throttleInterval, "throttle_retry_limit": .throttleRetryLimit,
        "max_query_depth": .maxQueryDepth, "date_created": .dateCreated, "expires": .expires,
        "quota_max": .quotaMax, "quota_renews": .quotaRenews, "quota_remaining": .quotaRemaining,
        "quota_renewal_rate": .quotaRenewalRate, "access_rights": .accessRights, "org_id": .orgID,
        "oauth_client_id": .oauthClientID, "oauth_keys": .oauthKeys, "certificate": .certificate,
        "mtls_static_certificate_bindings": .mtlsStaticCertificateBindings, "basic_auth_data": .basicAuthData,
        "jwt_data": .jwtData, "hmac_enabled": .hmacEnabled,
        "enable_http_signature_validation": .enableHTTPSignatureValidation, "hmac_string": .hmacString,
        "rsa_certificate_id": .rsaCertificateID, "is_inactive": .isInactive, "apply_policy_id": .applyPolicyID,
        "apply_policies": .applyPolicies, "data_expires": .dataExpires, "monitor": .monitor,
        "enable_detail_recording": .enableDetailRecording, "enable_detailed_recording": .enableDetailedRecording,
        "meta_data": .metaData, "tags": .tags, "alias": .alias, "last_updated": .lastUpdated,
        "id_extractor_deadline": .idExtractorDeadline, "session_lifetime": .sessionLifetime,
        "post_expiry_action": .postExpiryAction, "post_expiry_grace_period": .postExpiryGracePeriod,
        "smoothing": .smoothing,
    ]

    private mutating func decode(_ field: DecodedField, _ name: String, _ value: JSONValue) throws {
        typealias Read = JSONFieldReader
        let isNull: Bool
        if case .null = value { isNull = true } else { isNull = false }
        func int(_ meaning: String = "an integer") throws -> Int64 { isNull ? 0 : try Read.int(value, field: name, meaning: meaning) }
        func double() throws -> Double { isNull ? 0 : try Read.double(value, field: name) }
        func string() throws -> String { isNull ? "" : try Read.string(value, field: name) }
        func bool() throws -> Bool { isNull ? false : try Read.bool(value, field: name) }
        func strings() throws -> [String] { isNull ? [] : try Read.strings(value, field: name) }
        func raw(_ allowed: String?) throws -> JSONValue { try Read.raw(value, field: name, allowed: allowed) }
        switch field {
        case .lastCheck: lastCheck = try int()
        case .allowance: allowance = try double()
        case .rate: rate = try double()
        case .per: per = try double()
        case .throttleInterval: throttleInterval = try double()
        case .throttleRetryLimit: throttleRetryLimit = try int()
        case .maxQueryDepth: maxQueryDepth = try int()
        case .dateCreated: dateCreated = try string()
        case .expires: expires = try int("an integer number of Unix seconds")
        case .quotaMax: quotaMax = try int()
        case .quotaRenews: quotaRenews = try int("an integer number of Unix seconds")
        case .quotaRemaining: quotaRemaining = try int()
        case .quotaRenewalRate: quotaRenewalRate = try int("an integer number of seconds")
        case .accessRights:
            var rights: [String: AccessDefinition] = [:]
            for (apiID, entry) in isNull ? [:] : try Read.object(value, field: name) {
                guard case .object(let members) = entry else {
                    throw SessionDecodingError.wrongType(field: "access_rights.\(apiID)", expected: "an object", found: entry.typeDescription)
                }
                rights[apiID] = try AccessDefinition(json: members, path: "access_rights.\(apiID)")
            }
            accessRights = rights
        case .orgID: orgID = try string()
        case .oauthClientID: oauthClientID = try string()
        case .oauthKeys: oauthKeys = try raw("an object")
        case .certificate: certificate = try string()
        case .mtlsStaticCertificateBindings: mtlsStaticCertificateBindings = try raw("an array")
        case .basicAuthData: basicAuthData = try raw("an object")
        case .jwtData: jwtData = try raw("an object")
        case .hmacEnabled: hmacEnabled = try bool()
        case .enableHTTPSignatureValidation: enableHTTPSignatureValidation = try bool()
        case .hmacString: hmacString = try string()
        case .rsaCertificateID: rsaCertificateID = try string()
        case .isInactive: isInactive = try bool()
        case .applyPolicyID: applyPolicyID = try string()
        case .applyPolicies: applyPolicies = try strings()
        case .dataExpires: dataExpires = try int()
        case .monitor: monitor = try raw("an object")
        case .enableDetailRecording: enableDetailRecording = try bool()
        case .enableDetailedRecording: enableDetailedRecording = try bool()
        case .metaData: metaData = isNull ? [:] : try Read.object(value, field: name)
        case .tags: tags = try strings()
        case .alias: alias = try string()
        case .lastUpdated: lastUpdated = try string()
        case .idExtractorDeadline: idExtractorDeadline = try int()
        case .sessionLifetime: sessionLifetime = try int("an integer number of seconds")
        case .postExpiryAction: postExpiryAction = try string()
        case .postExpiryGracePeriod: postExpiryGracePeriod = try int("an integer number of seconds")
        case .smoothing: smoothing = try raw("an object")
        }
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
