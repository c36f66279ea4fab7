import PortcullisCore
import PortcullisSessions
import Testing

/// Tyk's policy `Apply` on session values: how several policies,
/// partitions and per-API limits combine.
@Suite("Policy application")
struct PolicyApplyTests {
    static func policy(_ json: String) throws -> Policy {
        try Policy(json: JSONValue(parsing: json))
    }

    static func session(_ policies: [String], _ extra: String = "") throws -> SessionState {
        let list = policies.map { "\"\($0)\"" }.joined(separator: ",")
        return try SessionState(jsonText: #"{"org_id": "org", "apply_policies": [\#(list)]\#(extra)}"#)
    }

    static let set = PolicySet([
        try! policy(#"{"id": "small", "org_id": "org", "rate": 10, "per": 60, "quota_max": 100, "quota_renewal_rate": 3600, "tags": ["a"],"# + #""access_rights": {"api": {"api_id": "api", "versions": ["v1"], "allowed_urls": [{"url": "/x", "methods": ["GET"]}]}}}"#),
        try! policy(#"{"id": "big", "org_id": "org", "rate": 100, "per": 60, "quota_max": -1, "tags": ["b", "a"],"# + #""access_rights": {"api": {"api_id": "api", "versions": ["v2"], "allowed_urls": [{"url": "/x", "methods": ["POST"]}, {"url": "/y", "methods": ["GET"]}]}}}"#),
        try! policy(#"{"id": "other-api", "org_id": "org", "quota_max": 7, "quota_renewal_rate": 60,"# + #""access_rights": {"api2": {"api_id": "api2", "versions": ["Default"]}}}"#),
        try! policy(#"{"id": "per-a", "org_id": "org", "partitions": {"per_api": true}, "quota_max": 3,"# + #""access_rights": {"api": {"api_id": "api", "versions": ["Default"]}}}"#),
        try! policy(#"{"id": "acl-only", "org_id": "org", "partitions": {"acl": true},"# + #""access_rights": {"api": {"api_id": "api", "versions": ["Default"]}}}"#),
        try! policy(#"{"id": "master", "org_id": "org", "rate": 5, "per": 1}"#),
        try! policy(#"{"id": "bad-mix", "org_id": "org", "partitions": {"per_api": true, "quota": true},"# + #""access_rights": {"api": {"api_id": "api"}}}"#),
    ])

    @Test("Two whole policies on one API: the more generous rate and quota win; versions, URLs and tags merge")
    func generousWins() throws {
        let applied = try Self.set.apply(to: Self.session(["small", "big"], #", "rate": 1000, "per": 1, "tags": ["own"]"#), apiOrgID: "org")
        #expect(applied.rate == 100 && applied.per == 60, "the key's own 1000/s does not count")
        #expect(applied.quotaMax == -1, "-1 (unlimited) beats 100")
        let right = try #require(applied.accessRights["api"])
        #expect(right.versions == ["v1", "v2"])
        #expect(right.allowedURLs == (try JSONValue(parsing: #"[{"url": "/x", "methods": ["GET", "POST"]}, {"url": "/y", "methods": ["GET"]}]"#)))
        #expect(applied.tags == ["own", "a", "b"])
    }

    @Test("Policies granting different APIs: each API keeps its policy's quota and counts on its own scope")
    func distinctAPIsGetScopes() throws {
        let applied = try Self.set.apply(to: Self.session(["small", "other-api"]), apiOrgID: "org")
        #expect(applied.accessRights.keys.sorted() == ["api", "api2"])
        let first = applied.effectiveLimit(apiID: "api")
        let second = applied.effectiveLimit(apiID: "api2")
        #expect(first.limit.quotaMax == 100 && first.scope == "small")
        #expect(second.limit.quotaMax == 7 && second.scope == "other-api")
    }

    @Test("A per-API policy without its own API limit uses the policy's, scoped to the policy")
    func perAPIScope() throws {
        let applied = try Self.set.apply(to: Self.session(["per-a"]), apiOrgID: nil)
        let effective = applied.effectiveLimit(apiID: "api")
        #expect(effective.limit.quotaMax == 3)
        #expect(effective.scope == "per-a")
    }

    @Test("An ACL partition takes its limits from the key's own top-level fields")
    func aclPartitionInherits() throws {
        let applied = try Self.set.apply(to: Self.session(["acl-only"], #", "quota_max": 42, "rate": 3, "per": 1"#), apiOrgID: "org")
        #expect(applied.accessRights.keys.sorted() == ["api"])
        let effective = applied.effectiveLimit(apiID: "api")
        #expect(effective.limit.quotaMax == 42 && effective.limit.rate == 3 && effective.scope == "")
    }

    @Test("Refusals: unknown id, other organisation, per_api with partitions, mixed kinds, a policy without APIs")
    func refusals() throws {
        #expect(throws: PolicyError.notFound(policyID: "nope")) { try Self.set.apply(to: Self.session(["small", "nope"]), apiOrgID: "org") }
        #expect(throws: PolicyError.otherOrganisation(policyID: "small", policyOrg: "org", apiOrg: "elsewhere")) {
            try Self.set.apply(to: Self.session(["small"]), apiOrgID: "elsewhere")
        }
        #expect(throws: PolicyError.perAPIWithPartitions(policyID: "bad-mix")) { try Self.set.apply(to: Self.session(["bad-mix"]), apiOrgID: "org") }
        #expect(throws: PolicyError.mixedPerAPIAndPartitions(policyID: "acl-only")) {
            try Self.set.apply(to: Self.session(["per-a", "acl-only"]), apiOrgID: "org")
        }
        #expect(throws: PolicyError.noAccessRights(policyIDs: ["master"])) { try Self.set.apply(to: Self.session(["master"]), apiOrgID: "org") }
    }

    @Test("The key's own is_inactive still counts; a session without policies is unchanged")
    func inactiveAndUntouched() throws {
        let inactive = try Self.set.apply(to: Self.session(["small"], #", "is_inactive": true"#), apiOrgID: "org")
        #expect(inactive.isInactive)
        let own = try SessionState(jsonText: #"{"rate": 9, "per": 1, "access_rights": {"api": {"api_id": "api"}}}"#)
        #expect(try Self.set.apply(to: own, apiOrgID: "org") == own)
    }

    @Test("A key's own per-API limit counts on a counter scoped to that API")
    func ownPerAPILimit() throws {
        let own = try SessionState(jsonText: #"{"quota_max": 50, "access_rights": {"api": {"api_id": "api", "limit": {"quota_max": 2, "quota_renewal_rate": 60}}}}"#)
        let effective = own.effectiveLimit(apiID: "api")
        #expect(effective.limit.quotaMax == 2 && effective.scope == "api")
        #expect(own.effectiveLimit(apiID: "unlisted").limit.quotaMax == 50)
    }
}
