import PortcullisCore
@testable import PortcullisSessions
import Testing

@Suite("Session JSON")
struct SessionStateTests {
    static let forumSession = #"{"access_rights":{"3b30b68340b8492858ea00be8c9b248e":{"allowed_urls":null,"api_id":"3b30b68340b8492858ea00be8c9b248e","api_name":"/xx/my/auth/1.0","versions":["Default"]}},"alias":"5976507eb46f2e00016bb4a13a4e7ca913238ee243102a32d27e56bc","expires":1501776831,"quota_max":1000,"quota_remaining":1000,"quota_renewal_rate":60}"#

    @Test("The forum plugin's session decodes with integers intact")
    func decodesForumSession() throws {
        let session = try SessionState(jsonText: Self.forumSession)
        #expect(session.expires == 1_501_776_831)
        #expect(session.quotaMax == 1000)
        #expect(session.quotaRenewalRate == 60)
        #expect(session.accessRights["3b30b68340b8492858ea00be8c9b248e"]?.versions == ["Default"])
        #expect(session.accessRights["3b30b68340b8492858ea00be8c9b248e"]?.apiName == "/xx/my/auth/1.0")
        #expect(session.alias.hasSuffix("56bc"))
    }

    @Test("Encoding writes every field, meta_data as {} never null, and round-trips")
    func encodesAllFields() throws {
        let session = try SessionState(jsonText: Self.forumSession)
        let object = try #require(session.json.objectValue)
        for field in ["last_check", "allowance", "rate", "per", "expires", "quota_max", "quota_renews", "quota_remaining",
                      "quota_renewal_rate", "access_rights", "org_id", "is_inactive", "meta_data", "tags", "alias",
                      "last_updated", "session_lifetime", "post_expiry_action", "post_expiry_grace_period", "apply_policies",
                      "basic_auth_data", "jwt_data", "monitor", "hmac_enabled", "data_expires", "smoothing"] {
            #expect(object[field] != nil, "missing \(field)")
        }
        #expect(object["meta_data"] == .object([:]))
        #expect(object["expires"] == .int(1_501_776_831))
        let again = try SessionState(jsonText: session.jsonText())
        #expect(again == session)
    }

    @Test("Unknown fields survive a round trip, at top level and inside access_rights")
    func keepsUnknownFields() throws {
        let text = #"{"expires":5,"future_field":{"x":[1,2]},"access_rights":{"a":{"api_id":"a","mcp_primitives":["t"]}},"meta_data":{"n":1,"deep":{"k":true}}}"#
        let session = try SessionState(jsonText: text)
        #expect(session.unknownFields["future_field"] == .object(["x": .array([.int(1), .int(2)])]))
        #expect(session.accessRights["a"]?.unknownFields["mcp_primitives"] == .array([.string("t")]))
        let round = try #require(try JSONValue(parsing: session.jsonText()).objectValue)
        #expect(round["future_field"] == .object(["x": .array([.int(1), .int(2)])]))
        #expect(round["meta_data"] == .object(["n": .int(1), "deep": .object(["k": .bool(true)])]))
        let rights = try #require(round["access_rights"]?.objectValue?["a"]?.objectValue)
        #expect(rights["mcp_primitives"] == .array([.string("t")]))
    }

    @Test("A fractional expires is refused naming the field and the value")
    func fractionalExpires() {
        #expect {
            _ = try SessionState(jsonText: #"{"expires": 1700000000.5}"#)
        } throws: { error in
            (error as? SessionDecodingError)?.description == "field 'expires' must be an integer number of Unix seconds, got 1700000000.5"
        }
    }

    @Test("A whole number in float syntax is accepted as that integer")
    func wholeFloatAccepted() throws {
        #expect(try SessionState(jsonText: #"{"expires": 1.7e9}"#).expires == 1_700_000_000)
        #expect(try SessionState(jsonText: #"{"expires": 1700000000.0}"#).json.objectValue?["expires"] == .int(1_700_000_000))
    }

    @Test("Wrong types, non-objects and broken JSON give errors naming what is wrong", arguments: [
        (#"[1,2]"#, "session must be a JSON object, got an array"),
        (#""text""#, "session must be a JSON object, got a string"),
        (#"{"expires":"soon"}"#, "field 'expires' must be an integer number of Unix seconds, got a string"),
        (#"{"quota_renewal_rate":1.5}"#, "field 'quota_renewal_rate' must be an integer number of seconds, got 1.5"),
        (#"{"is_inactive":"yes"}"#, "field 'is_inactive' must be a boolean, got a string"),
        (#"{"meta_data":[]}"#, "field 'meta_data' must be an object, got an array"),
        (#"{"tags":["a",3]}"#, "field 'tags[1]' must be a string, got an integer"),
        (#"{"access_rights":{"x":{"versions":"v1"}}}"#, "field 'access_rights.x.versions' must be an array of strings, got a string"),
        (#"{"access_rights":{"x":5}}"#, "field 'access_rights.x' must be an object, got an integer"),
        // Of several wrong fields in an entry the first in the decoder's
        // order is named, whatever order the text gives them in.
        (#"{"access_rights":{"x":{"limit":[],"allowance_scope":1,"api_id":2}}}"#, "field 'access_rights.x.api_id' must be a string, got an integer"),
        (#"{"access_rights":{"x":{"api_id":2,"limit":[],"allowance_scope":1}}}"#, "field 'access_rights.x.api_id' must be a string, got an integer"),
        (#"{"access_rights":{"x":{"limit":[]}}}"#, "field 'access_rights.x.limit' must be an object, got an array"),
        (#"{"post_expiry_action":"explode"}"#, #"field 'post_expiry_action' must be "retain" or "delete", got "explode""#),
    ])
    func decodeErrors(text: String, message: String) {
        #expect {
            _ = try SessionState(jsonText: text)
        } throws: { error in
            (error as? SessionDecodingError)?.description == message
        }
    }

    @Test("Text that is not JSON is refused as such")
    func notJSON() {
        #expect {
            _ = try SessionState(jsonText: "{expires: 5")
        } throws: { error in
            guard case .notJSON = error as? SessionDecodingError else { return false }
            return true
        }
    }

    @Test("null fields read as zero values, as Go's decoder does")
    func nullsAreZero() throws {
        let session = try SessionState(jsonText: #"{"expires":null,"meta_data":null,"tags":null,"access_rights":null}"#)
        #expect(session.expires == 0)
        #expect(session.metaData.isEmpty)
        #expect(session.json.objectValue?["meta_data"] == .object([:]))
    }

    @Test("null fields of an access_rights entry read as zero values; raw ones stay null")
    func nullsInAccessEntry() throws {
        let text = #"{"access_rights":{"a":{"api_id":null,"api_name":"A","versions":null,"disable_introspection":null,"limit":null,"allowed_urls":[{"url":"/x"}]}}}"#
        let entry = try #require(try SessionState(jsonText: text).accessRights["a"])
        #expect(entry.apiID == "")
        #expect(entry.apiName == "A")
        #expect(entry.versions.isEmpty)
        #expect(entry.disableIntrospection == false)
        #expect(entry.limit == .null)
        #expect(entry.allowedURLs == .array([.object(["url": .string("/x")])]))
        #expect(entry.unknownFields.isEmpty)
    }

    @Test("The stored version member is stripped on decode and kept out of unknown fields")
    func versionFieldReserved() throws {
        let record = StoredSession.decode(stored: StoredSession.encode(body: makeSession(expires: 9).jsonText(), version: 42))
        #expect(record.version == 42)
        let session = try SessionState(jsonText: record.body)
        #expect(session.expires == 9)
        #expect(session.unknownFields[StoredSession.versionField] == nil)
        #expect(StoredSession.encode(body: "{}", version: 3) == #"{"portcullis_version":3}"#)
        #expect(StoredSession.decode(stored: #"{"expires":1}"#).version == 0)
        #expect(StoredSession.decode(stored: #"{"portcullis_version":3}"#) == StoredSession(body: "{}", version: 3))
        #expect(StoredSession.decode(stored: #"{"portcullis_version":18446744073709551615,"a":"é"}"#)
                == StoredSession(body: #"{"a":"é"}"#, version: UInt64.max))
        // No digits, or more than a version holds: the text is kept whole, as a record of version 0.
        for odd in [#"{"portcullis_version":,"a":1}"#, #"{"portcullis_version":18446744073709551616,"a":1}"#, #"{"portcullis_version":"#] {
            #expect(StoredSession.decode(stored: odd) == StoredSession(body: odd, version: 0))
        }
    }

    @Test("Expiry boundary: the expires second itself is still valid; 0 never expires")
    func expiryBoundary() {
        let session = makeSession(expires: 100)
        #expect(!session.isExpired(at: 100))
        #expect(session.isExpired(at: 101))
        #expect(!makeSession(expires: 0).isExpired(at: 1_000_000))
    }

    @Test("The text written field by field is byte for byte the sorted JSON of the session, with and without unknown fields")
    func directWriterMatchesSortedJSON() throws {
        var session = try SessionState(jsonText: Self.forumSession)
        session.metaData = ["user": .string("ada \"q\" \u{1}"), "n": .int(-42), "f": .double(1.5)]
        session.tags = ["b", "a"]
        session.rate = 2.5
        session.quotaRenews = -1
        var second = AccessDefinition(apiID: "b-api", apiName: "B", versions: ["v1", "v2"])
        second.limit = .object(["rate": .int(5), "per": .double(0.5)])
        second.allowanceScope = "scope"
        var unusual = AccessDefinition(apiID: "a-api")
        unusual.unknownFields = ["zz": .bool(true), "aa": .null]
        session.accessRights["b-api"] = second
        session.accessRights["a-api"] = unusual
        session.basicAuthData = .object(["password": .string("p"), "hash_type": .string("bcrypt")])
        session.smoothing = .object(["enabled": .bool(true)])
        #expect(session.jsonText() == session.json.jsonString())
        let reparsed = try SessionState(jsonText: session.jsonText())
        #expect(reparsed.jsonText() == session.jsonText())
        let extra = try SessionState(jsonText: #"{"zz_custom": 1, "aa_custom": "x", "expires": 5}"#)
        #expect(extra.jsonText() == extra.json.jsonString())
        #expect(extra.jsonText().hasPrefix(#"{"aa_custom":"x","access_rights":{}"#))
    }

    @Test("A copy is a value: changing it in place, field or nested collection, leaves the original as it was")
    func copiesAreValues() throws {
        let original = try SessionState(jsonText: Self.forumSession)
        var copy = original
        #expect(copy == original)
        copy.expires += 60
        copy.metaData["tier"] = .string("gold")
        copy.accessRights["3b30b68340b8492858ea00be8c9b248e"]?.versions.append("v2")
        copy.tags.append("renewed")
        #expect(original.expires == 1_501_776_831)
        #expect(original.metaData.isEmpty)
        #expect(original.accessRights["3b30b68340b8492858ea00be8c9b248e"]?.versions == ["Default"])
        #expect(original.tags.isEmpty)
        #expect(copy != original)
        #expect(copy.accessRights["3b30b68340b8492858ea00be8c9b248e"]?.versions == ["Default", "v2"])
        // Equal fields make equal sessions, however each was made.
        var rebuilt = try SessionState(jsonText: Self.forumSession)
        #expect(rebuilt == original)
        rebuilt.alias = "other"
        #expect(rebuilt != original)
    }

    @Test("Fields are read in text order: of two bad fields the first is named, a repeated name ends with its last value")
    func textOrder() throws {
        #expect(throws: SessionDecodingError.wrongType(field: "quota_max", expected: "an integer", found: "a string")) {
            try SessionState(jsonText: #"{"quota_max": "x", "expires": "y"}"#)
        }
        #expect(throws: SessionDecodingError.wrongType(field: "expires", expected: "an integer number of Unix seconds", found: "a string")) {
            try SessionState(jsonText: #"{"expires": "y", "quota_max": "x"}"#)
        }
        let repeated = try SessionState(jsonText: #"{"expires": 5, "alias": "a", "expires": 9, "alias": null, "x": 1, "x": 2}"#)
        #expect(repeated.expires == 9)
        #expect(repeated.alias == "")
        #expect(repeated.unknownFields == ["x": .int(2)])
        // The parsed-value form reads the same fields to the same session.
        let parsed = try SessionState(json: JSONValue(parsing: #"{"expires": 9, "x": 2, "portcullis_version": 4}"#))
        #expect(parsed.expires == 9)
        #expect(parsed.unknownFields == ["x": .int(2)])
    }
}
