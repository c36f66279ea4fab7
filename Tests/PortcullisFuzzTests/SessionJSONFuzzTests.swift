import PortcullisCore
@testable import PortcullisSessions
import PropertyBased
import Testing

/// Fuzzes the Tyk session JSON decoder, `SessionState(jsonText:)`, which reads
/// whatever a plugin passes to `TykSetKeyData` and whatever is in the store.
///
/// Protects: (1) no input crashes the gateway — every document either decodes
/// or is refused with a ``SessionDecodingError`` that says where the problem
/// is (a field path, a position in the text, or the top level); (2) a field
/// holding the wrong type is refused naming exactly that field; (3) encoding
/// a session and decoding it again loses nothing, unknown fields included;
/// (4) absurdly deep nesting is refused, never a stack overflow.
@Suite("Fuzz: session JSON decoder", .timeLimit(.minutes(2)))
struct SessionJSONFuzzTests {
    // MARK: Generators

    /// Names the encoder writes for every session, plus the store's record version.
    static let modelledFields: Set<String> = Set((SessionState().json.objectValue ?? [:]).keys)
        .union([StoredSession.versionField])
    /// Names an access_rights entry always writes.
    static let modelledAccessFields: Set<String> = Set((AccessDefinition().json.objectValue ?? [:]).keys)

    /// A key that is not one of `known`.
    static func freshKey(_ r: inout SplitMix64, avoiding known: Set<String>) -> String {
        let key = r.chance(50) ? "x_" + FuzzText.string(&r, maxLength: 10) : FuzzText.string(&r, maxLength: 10)
        return known.contains(key) ? key + "_extra" : key
    }

    static func optionalArray(_ r: inout SplitMix64) -> JSONValue {
        r.chance(50) ? .null : .array((0..<Int.random(in: 0...3, using: &r)).map { _ in FuzzText.jsonValue(&r, depth: 1) })
    }

    static func optionalObject(_ r: inout SplitMix64) -> JSONValue {
        r.chance(50) ? .null : FuzzText.jsonObject(&r, depth: 2, maxCount: 3)
    }

    static func strings(_ r: inout SplitMix64) -> [String] {
        (0..<Int.random(in: 0...3, using: &r)).map { _ in FuzzText.string(&r) }
    }

    static func accessDefinition(_ r: inout SplitMix64, apiID: String) -> AccessDefinition {
        var entry = AccessDefinition(apiID: r.chance(80) ? apiID : FuzzText.string(&r), apiName: FuzzText.string(&r), versions: strings(&r))
        entry.allowedURLs = optionalArray(&r)
        entry.restrictedTypes = optionalArray(&r)
        entry.allowedTypes = optionalArray(&r)
        entry.limit = optionalObject(&r)
        entry.fieldAccessRights = optionalArray(&r)
        entry.disableIntrospection = r.chance(50)
        entry.allowanceScope = FuzzText.string(&r)
        entry.endpoints = optionalArray(&r)
        for _ in 0..<Int.random(in: 0...2, using: &r) {
            entry.unknownFields[freshKey(&r, avoiding: modelledAccessFields)] = FuzzText.jsonValue(&r)
        }
        return entry
    }

    /// A valid session with every field random, including edge-case numbers,
    /// awkward Unicode, random meta_data and access_rights, and unknown fields.
    static func session(_ r: inout SplitMix64) -> SessionState {
        var s = SessionState()
        s.lastCheck = FuzzText.int64(&r)
        s.allowance = FuzzText.finiteDouble(&r)
        s.rate = FuzzText.finiteDouble(&r)
        s.per = FuzzText.finiteDouble(&r)
        s.throttleInterval = FuzzText.finiteDouble(&r)
        s.throttleRetryLimit = FuzzText.int64(&r)
        s.maxQueryDepth = FuzzText.int64(&r)
        s.dateCreated = FuzzText.string(&r)
        s.expires = FuzzText.int64(&r)
        s.quotaMax = r.chance(30) ? r.pick([-1, 0]) : FuzzText.int64(&r)
        s.quotaRenews = FuzzText.int64(&r)
        s.quotaRemaining = FuzzText.int64(&r)
        s.quotaRenewalRate = FuzzText.int64(&r)
        for _ in 0..<Int.random(in: 0...2, using: &r) {
            let apiID = FuzzText.string(&r, maxLength: 16)
            s.accessRights[apiID] = accessDefinition(&r, apiID: apiID)
        }
        s.orgID = FuzzText.string(&r)
        s.oauthClientID = FuzzText.string(&r)
        s.oauthKeys = optionalObject(&r)
        s.certificate = FuzzText.string(&r)
        s.mtlsStaticCertificateBindings = optionalArray(&r)
        if r.chance(50) { s.basicAuthData = optionalObject(&r) }
        if r.chance(50) { s.jwtData = optionalObject(&r) }
        s.hmacEnabled = r.chance(50)
        s.enableHTTPSignatureValidation = r.chance(50)
        s.hmacString = FuzzText.string(&r)
        s.rsaCertificateID = FuzzText.string(&r)
        s.isInactive = r.chance(50)
        s.applyPolicyID = FuzzText.string(&r)
        s.applyPolicies = strings(&r)
        s.dataExpires = FuzzText.int64(&r)
        if r.chance(50) { s.monitor = optionalObject(&r) }
        s.enableDetailRecording = r.chance(50)
        s.enableDetailedRecording = r.chance(50)
        for _ in 0..<Int.random(in: 0...4, using: &r) {
            s.metaData[FuzzText.string(&r, maxLength: 10)] = FuzzText.jsonValue(&r)
        }
        s.tags = strings(&r)
        s.alias = FuzzText.string(&r)
        s.lastUpdated = FuzzText.string(&r)
        s.idExtractorDeadline = FuzzText.int64(&r)
        s.sessionLifetime = FuzzText.int64(&r)
        s.postExpiryAction = r.pick(["", "retain", "delete"])
        s.postExpiryGracePeriod = r.chance(20) ? -1 : FuzzText.int64(&r)
        s.smoothing = optionalObject(&r)
        for _ in 0..<Int.random(in: 0...3, using: &r) {
            s.unknownFields[freshKey(&r, avoiding: modelledFields)] = FuzzText.jsonValue(&r)
        }
        return s
    }

    static let sessions = Generator<SessionState, Shrink.None<SessionState>>.seeded { session(&$0) }

    // MARK: What an error must say

    /// True when the error says where the problem is in `text`: a field path
    /// (quoted in the description), a line and column that exist in the
    /// text, or the top level.
    static func saysWhere(_ error: SessionDecodingError, in text: String) -> Bool {
        switch error {
        case .wrongType(let field, _, _), .notAnInteger(let field, _, _):
            return !field.isEmpty && error.description.contains("'\(field)'")
        case .notAnObject:
            return error.description.hasPrefix("session must be a JSON object")
        case .notJSON(let reason):
            return JSONErrorPosition.locates(reason, in: text)
        }
    }

    /// Decodes `text`, recording an issue when it fails any other way than a
    /// ``SessionDecodingError`` that says where the problem is. Returns the
    /// session when it decoded.
    @discardableResult
    static func decodeOrExplain(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> SessionState? {
        do {
            return try SessionState(jsonText: text)
        } catch let error as SessionDecodingError {
            #expect(saysWhere(error, in: text), "error does not say where: \(error)", sourceLocation: sourceLocation)
            return nil
        } catch {
            Issue.record("not a SessionDecodingError: \(type(of: error)) \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    // MARK: Properties

    @Test("Arbitrary text never crashes the decoder; refusals say where")
    func arbitraryText() async {
        await propertyCheck(count: 3000, input: Generator<String, Shrink.None<String>>.seeded { JSONMutation.arbitraryText(&$0) }) { text in
            Self.decodeOrExplain(text)
        }
    }

    @Test("Mutated valid session JSON never crashes; what decodes re-encodes stably, refusals say where")
    func mutatedSessions() async {
        let inputs = Generator<String, Shrink.None<String>>.seeded { r in
            JSONMutation.mutate(Self.session(&r).jsonText(), &r)
        }
        await propertyCheck(count: 3000, input: inputs) { text in
            guard let decoded = Self.decodeOrExplain(text) else { return }
            // Whatever was accepted must be a fixed point of encode/decode.
            let again = try SessionState(jsonText: decoded.jsonText())
            #expect(again == decoded)
            #expect(again.jsonText() == decoded.jsonText())
        }
    }

    @Test("Odd numbers and values in any field are refused naming the field or position, never a crash")
    func oddValuesInFields() async {
        let fields = Array(Self.modelledFields).sorted()
        let inputs = Generator<String, Shrink.None<String>>.seeded { r in
            var object = Self.session(&r).json.objectValue ?? [:]
            let field = r.pick(fields)
            object[field] = .string("@@ODD@@")
            return JSONValue.object(object).jsonString().replacingOccurrences(of: "\"@@ODD@@\"", with: FuzzText.oddFragment(&r))
        }
        await propertyCheck(count: 2000, input: inputs) { text in
            Self.decodeOrExplain(text)
        }
    }

    @Test("Mutated policies never crash the policy decoder or Apply; what applies grants only the policies' APIs")
    func mutatedPolicies() async {
        let inputs = Generator<String, Shrink.None<String>>.seeded { r in
            let quota = Int64.random(in: -1...1000, using: &r)
            let text = #"{"id": "p", "org_id": "o", "rate": 5, "per": 1, "quota_max": \#(quota), "partitions": {"quota": \#(r.chance(50))},"#
                + #" "access_rights": {"api": {"api_id": "api", "versions": ["Default"], "limit": {"quota_max": 3}}}, "tags": ["t"]}"#
            return JSONMutation.mutate(text, &r)
        }
        await propertyCheck(count: 2000, input: inputs) { text in
            guard let value = try? JSONValue(parsing: text) else { return }
            let policy: Policy
            do {
                policy = try Policy(json: value, path: "p")
            } catch {
                #expect(error is SessionDecodingError, "\(type(of: error)): \(error)")
                return
            }
            var session = SessionState()
            session.applyPolicies = [policy.id]
            session.orgID = "o"
            guard let applied = try? PolicySet([policy]).apply(to: session, apiOrgID: nil) else { return }
            #expect(Set(applied.accessRights.keys).isSubset(of: Set(policy.accessRights.keys)))
            let again = try SessionState(jsonText: applied.jsonText())
            #expect(again == applied)
        }
    }

    @Test("Generated sessions round-trip through jsonText() unchanged in every field")
    func roundTrip() async {
        await propertyCheck(count: 3000, input: Self.sessions) { session in
            let text = session.jsonText()
            // The direct writer says exactly what the sorted JSON value says.
            #expect(text == session.json.jsonString())
            let decoded = try SessionState(jsonText: text)
            #expect(decoded == session)
            #expect(decoded.expires == session.expires && decoded.quotaRemaining == session.quotaRemaining)
            #expect(decoded.metaData == session.metaData)
            #expect(decoded.accessRights == session.accessRights)
            #expect(decoded.unknownFields == session.unknownFields)
            #expect(decoded.jsonText() == text)
        }
    }

    @Test("Unknown fields added to session JSON survive decode and re-encode, at top level and in access_rights")
    func unknownFieldsSurvive() async {
        struct Case: Sendable, CustomStringConvertible {
            var text: String
            var extras: [String: JSONValue]
            var entryExtras: [String: [String: JSONValue]]
            var description: String { text }
        }
        let inputs = Generator<Case, Shrink.None<Case>>.seeded { r in
            var session = Self.session(&r)
            session.unknownFields = [:]
            for apiID in session.accessRights.keys { session.accessRights[apiID]?.unknownFields = [:] }
            var object = session.json.objectValue ?? [:]
            var extras: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 1...4, using: &r) {
                extras[Self.freshKey(&r, avoiding: Self.modelledFields)] = FuzzText.jsonValue(&r)
            }
            object.merge(extras) { _, new in new }
            var entryExtras: [String: [String: JSONValue]] = [:]
            var rights = object["access_rights"]?.objectValue ?? [:]
            for (apiID, entry) in rights {
                guard var members = entry.objectValue else { continue }
                let key = Self.freshKey(&r, avoiding: Self.modelledAccessFields)
                let value = FuzzText.jsonValue(&r)
                members[key] = value
                entryExtras[apiID] = [key: value]
                rights[apiID] = .object(members)
            }
            object["access_rights"] = .object(rights)
            return Case(text: JSONValue.object(object).jsonString(), extras: extras, entryExtras: entryExtras)
        }
        await propertyCheck(count: 2000, input: inputs) { input in
            let decoded = try SessionState(jsonText: input.text)
            #expect(decoded.unknownFields == input.extras)
            for (apiID, extras) in input.entryExtras {
                #expect(decoded.accessRights[apiID]?.unknownFields == extras)
            }
            // What jsonText() writes, then the text itself read back.
            let reencoded = try #require(decoded.json.objectValue)
            for (key, value) in input.extras {
                #expect(reencoded[key] == value, "lost \(key)")
            }
            for (apiID, extras) in input.entryExtras {
                let entry = reencoded["access_rights"]?.objectValue?[apiID]?.objectValue
                for (key, value) in extras {
                    #expect(entry?[key] == value, "lost access_rights.\(apiID).\(key)")
                }
            }
            #expect(try SessionState(jsonText: decoded.jsonText()) == decoded)
        }
    }

    // MARK: Wrong types

    enum Kind: Sendable {
        case integer, number, string, bool, strings, object, rawObject, rawArray
    }

    static let topLevelKinds: [String: Kind] = [
        "last_check": .integer, "throttle_retry_limit": .integer, "max_query_depth": .integer, "expires": .integer,
        "quota_max": .integer, "quota_renews": .integer, "quota_remaining": .integer, "quota_renewal_rate": .integer,
        "data_expires": .integer, "id_extractor_deadline": .integer, "session_lifetime": .integer,
        "post_expiry_grace_period": .integer,
        "allowance": .number, "rate": .number, "per": .number, "throttle_interval": .number,
        "date_created": .string, "org_id": .string, "oauth_client_id": .string, "certificate": .string,
        "hmac_string": .string, "rsa_certificate_id": .string, "apply_policy_id": .string, "alias": .string,
        "last_updated": .string, "post_expiry_action": .string,
        "hmac_enabled": .bool, "enable_http_signature_validation": .bool, "is_inactive": .bool,
        "enable_detail_recording": .bool, "enable_detailed_recording": .bool,
        "apply_policies": .strings, "tags": .strings,
        "access_rights": .object, "meta_data": .object,
        "oauth_keys": .rawObject, "basic_auth_data": .rawObject, "jwt_data": .rawObject, "monitor": .rawObject, "smoothing": .rawObject,
        "mtls_static_certificate_bindings": .rawArray,
    ]

    static let accessKinds: [String: Kind] = [
        "api_name": .string, "api_id": .string, "allowance_scope": .string, "versions": .strings,
        "allowed_urls": .rawArray, "restricted_types": .rawArray, "allowed_types": .rawArray,
        "field_access_rights": .rawArray, "endpoints": .rawArray, "limit": .rawObject, "disable_introspection": .bool,
    ]

    /// A value that `kind` must refuse, and the field path the error must name
    /// (a string array with one bad element names that element).
    static func wrongValue(for kind: Kind, field: String, _ r: inout SplitMix64) -> (JSONValue, String) {
        let string = JSONValue.string(FuzzText.string(&r))
        let bool = JSONValue.bool(r.chance(50))
        let int = JSONValue.int(FuzzText.int64(&r))
        let fraction = JSONValue.double(FuzzText.fractionalDouble(&r))
        let array = JSONValue.array([FuzzText.jsonValue(&r, depth: 1)])
        let object = FuzzText.jsonObject(&r, depth: 1)
        switch kind {
        case .integer: return (r.pick([string, bool, fraction, array, object]), field)
        case .number: return (r.pick([string, bool, array, object]), field)
        case .string: return (r.pick([bool, int, fraction, array, object]), field)
        case .bool: return (r.pick([string, int, fraction, array, object, .string("true")]), field)
        case .strings:
            if r.chance(50) { return (r.pick([string, bool, int, object]), field) }
            let bad = r.pick([bool, int, fraction, array, object, JSONValue.null])
            let good = Int.random(in: 0...2, using: &r)
            return (.array(Array(repeating: .string("ok"), count: good) + [bad]), "\(field)[\(good)]")
        case .object, .rawObject: return (r.pick([string, bool, int, fraction, array]), field)
        case .rawArray: return (r.pick([string, bool, int, fraction, object]), field)
        }
    }

    @Test("A field of the wrong type is refused naming exactly that field")
    func wrongTypeNamesField() async {
        struct Case: Sendable, CustomStringConvertible {
            var text: String
            var field: String
            var description: String { "\(field) in \(text)" }
        }
        let topFields = Self.topLevelKinds.keys.sorted()
        let accessFields = Self.accessKinds.keys.sorted()
        let inputs = Generator<Case, Shrink.None<Case>>.seeded { r in
            var session = Self.session(&r)
            var object = session.json.objectValue ?? [:]
            if r.chance(30) {
                // Inside one access_rights entry (or the entry itself).
                let apiID = "api-" + FuzzText.string(&r, maxLength: 6)
                session.accessRights[apiID] = Self.accessDefinition(&r, apiID: apiID)
                object = session.json.objectValue ?? [:]
                var rights = object["access_rights"]?.objectValue ?? [:]
                var entry = rights[apiID]?.objectValue ?? [:]
                let path: String
                if r.chance(10) {
                    let (value, _) = Self.wrongValue(for: .object, field: "", &r)
                    rights[apiID] = value
                    path = "access_rights.\(apiID)"
                } else {
                    let field = r.pick(accessFields)
                    let (value, named) = Self.wrongValue(for: Self.accessKinds[field]!, field: field, &r)
                    entry[field] = value
                    rights[apiID] = .object(entry)
                    path = "access_rights.\(apiID).\(named)"
                }
                object["access_rights"] = .object(rights)
                return Case(text: JSONValue.object(object).jsonString(), field: path)
            }
            let field = r.pick(topFields)
            let (value, named) = Self.wrongValue(for: Self.topLevelKinds[field]!, field: field, &r)
            object[field] = value
            return Case(text: JSONValue.object(object).jsonString(), field: named)
        }
        await propertyCheck(count: 3000, input: inputs) { input in
            do {
                _ = try SessionState(jsonText: input.text)
                Issue.record("accepted a wrong type in \(input.field)")
            } catch let error as SessionDecodingError {
                switch error {
                case .wrongType(let field, _, _), .notAnInteger(let field, _, _):
                    #expect(field == input.field)
                    #expect(error.description.contains("'\(input.field)'"))
                default:
                    Issue.record("expected a field error for \(input.field), got \(error)")
                }
            } catch {
                Issue.record("not a SessionDecodingError: \(error)")
            }
        }
    }

    // MARK: Regressions

    @Test("Malformed JSON and out-of-range numbers are refused with line and column")
    func malformedNamesPosition() {
        for (text, token, position) in [
            (#"{"expires": x}"#, "'x'", "line 1, column 13"),
            ("{\n  \"expires\": 1", "ends inside an object", "line 2, column 15"),
            (#"{"expires": 1e400}"#, "1e400", "line 1, column 13"),
            (#"{"meta_data": {"a": "\ud800"}}"#, "surrogate", "line 1, column 28"),
        ] {
            #expect {
                try SessionState(jsonText: text)
            } throws: { error in
                guard case .notJSON(let reason)? = error as? SessionDecodingError else { return false }
                return reason.contains(token) && reason.hasSuffix("at \(position)")
            }
        }
    }

    // MARK: Pathological nesting

    @Test("Deeply nested arrays and objects are refused, not a stack overflow", arguments: [600, 10_000, 100_000])
    func deepNesting(depth: Int) {
        for text in [
            DeepNesting.arrays(depth: depth),
            DeepNesting.arrays(depth: depth, closed: false),
            DeepNesting.objects(depth: depth),
            #"{"meta_data":{"a":"# + DeepNesting.arrays(depth: depth) + "}}",
            #"{"expires":1,"future":"# + DeepNesting.objects(depth: depth) + "}",
        ] {
            #expect(throws: SessionDecodingError.self) { try SessionState(jsonText: text) }
            Self.decodeOrExplain(text)
        }
    }

    @Test("Nesting the decoder accepts survives a round trip", arguments: [50, 200, 500])
    func acceptedNesting(depth: Int) throws {
        let text = #"{"meta_data":{"deep":"# + DeepNesting.arrays(depth: depth) + #","obj":"# + DeepNesting.objects(depth: depth) + "}}"
        let session = try SessionState(jsonText: text)
        var level = try #require(session.metaData["deep"])
        var seen = 0
        while case .array(let items) = level, let first = items.first {
            level = first
            seen += 1
        }
        #expect(seen == depth - 1)
        #expect(try SessionState(jsonText: session.jsonText()) == session)
    }
}

/// Recognises JSON parse errors that locate the problem in the text.
enum JSONErrorPosition {
    /// True when `reason` ends with "at line L, column C" and that line exists in `text`.
    static func locates(_ reason: String, in text: String) -> Bool {
        guard let match = reason.firstMatch(of: /at line ([0-9]+), column ([0-9]+)$/),
              let line = Int(match.1), let column = Int(match.2) else { return false }
        let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        return line >= 1 && line <= lines.count && column >= 1 && column <= lines[line - 1].count + 1
    }
}
