import PortcullisCore

/// A Tyk security policy (`user.Policy`): access rights, rate limit, quota
/// and state that keys naming it in `apply_policies` take on. A policy
/// changes what a key may do without rewriting the key.
public struct Policy: Sendable, Equatable {
    /// `id`, the name keys use in `apply_policies`.
    public var id: String = ""
    /// `name`.
    public var name: String = ""
    /// `org_id`: a policy applies only to keys on APIs of the same organisation.
    public var orgID: String = ""
    /// `rate`: requests per `per` seconds.
    public var rate: Double = 0
    /// `per`: the rate window in seconds.
    public var per: Double = 0
    /// `quota_max`: -1 unlimited.
    public var quotaMax: Int64 = 0
    /// `quota_renewal_rate`: the quota window in seconds.
    public var quotaRenewalRate: Int64 = 0
    /// `throttle_interval`.
    public var throttleInterval: Double = 0
    /// `throttle_retry_limit`.
    public var throttleRetryLimit: Int64 = 0
    /// `max_query_depth`.
    public var maxQueryDepth: Int64 = 0
    /// `access_rights`: API ID → what keys under this policy may do there.
    public var accessRights: [String: AccessDefinition] = [:]
    /// `hmac_enabled`.
    public var hmacEnabled: Bool = false
    /// `enable_http_signature_validation`.
    public var enableHTTPSignatureValidation: Bool = false
    /// `active` (informational, as in Tyk).
    public var active: Bool = false
    /// `is_inactive`: every key under the policy is refused with 403.
    public var isInactive: Bool = false
    /// `tags`, added to the key's tags.
    public var tags: [String] = []
    /// `key_expires_in`: the trial period. A key created under the policy
    /// expires this many seconds after it is created; 0 never.
    public var keyExpiresIn: Int64 = 0
    /// `post_expiry_action`.
    public var postExpiryAction: String = ""
    /// `post_expiry_grace_period`.
    public var postExpiryGracePeriod: Int64 = 0
    /// `partitions`: which parts of the policy apply.
    public var partitions: PolicyPartitions = PolicyPartitions()
    /// `last_updated`.
    public var lastUpdated: String = ""
    /// `meta_data`, merged into the key's.
    public var metaData: [String: JSONValue] = [:]
    /// `smoothing`.
    public var smoothing: JSONValue = .null
    /// Members this type does not model, shown unchanged by the admin API.
    public var unknownFields: [String: JSONValue] = [:]

    /// An empty policy.
    public init(id: String = "") {
        self.id = id
    }

    /// Decodes a policy object; `path` names it in errors. Wrong types are
    /// refused with the field named, as for sessions.
    public init(json value: JSONValue, path: String = "") throws {
        guard case .object(let object) = value else {
            throw SessionDecodingError.wrongType(field: path.isEmpty ? "policy" : path, expected: "an object", found: value.typeDescription)
        }
        var r = JSONFieldReader(object, path: path)
        id = try r.string("id")
        name = try r.string("name")
        orgID = try r.string("org_id")
        rate = try r.double("rate")
        per = try r.double("per")
        quotaMax = try r.int("quota_max")
        quotaRenewalRate = try r.int("quota_renewal_rate", meaning: "an integer number of seconds")
        throttleInterval = try r.double("throttle_interval")
        throttleRetryLimit = try r.int("throttle_retry_limit")
        maxQueryDepth = try r.int("max_query_depth")
        let prefix = path.isEmpty ? "access_rights" : "\(path).access_rights"
        for (apiID, entry) in try r.object("access_rights") {
            guard case .object(let members) = entry else {
                throw SessionDecodingError.wrongType(field: "\(prefix).\(apiID)", expected: "an object", found: entry.typeDescription)
            }
            var right = try AccessDefinition(json: members, path: "\(prefix).\(apiID)")
            if right.apiID.isEmpty { right.apiID = apiID }
            accessRights[apiID] = right
        }
        hmacEnabled = try r.bool("hmac_enabled")
        enableHTTPSignatureValidation = try r.bool("enable_http_signature_validation")
        active = try r.bool("active")
        isInactive = try r.bool("is_inactive")
        tags = try r.strings("tags")
        keyExpiresIn = try r.int("key_expires_in", meaning: "an integer number of seconds")
        postExpiryAction = try r.string("post_expiry_action")
        guard ["", "retain", "delete"].contains(postExpiryAction) else {
            throw SessionDecodingError.wrongType(field: path.isEmpty ? "post_expiry_action" : "\(path).post_expiry_action",
                                                 expected: "\"retain\" or \"delete\"", found: "\"\(postExpiryAction)\"")
        }
        postExpiryGracePeriod = try r.int("post_expiry_grace_period", meaning: "an integer number of seconds")
        let partitionObject = try r.object("partitions")
        var p = JSONFieldReader(partitionObject, path: path.isEmpty ? "partitions" : "\(path).partitions")
        partitions = PolicyPartitions(quota: try p.bool("quota"), rateLimit: try p.bool("rate_limit"),
                                      complexity: try p.bool("complexity"), acl: try p.bool("acl"), perAPI: try p.bool("per_api"))
        lastUpdated = try r.string("last_updated")
        metaData = try r.object("meta_data")
        smoothing = try r.raw("smoothing", default: .null, allowed: "an object")
        unknownFields = r.unread
    }

    /// The policy as JSON, as `GET /tyk/policies/{id}` shows it.
    public var json: JSONValue {
        var o = unknownFields
        o["id"] = .string(id)
        o["name"] = .string(name)
        o["org_id"] = .string(orgID)
        o["rate"] = SessionState.number(rate)
        o["per"] = SessionState.number(per)
        o["quota_max"] = .int(quotaMax)
        o["quota_renewal_rate"] = .int(quotaRenewalRate)
        o["throttle_interval"] = SessionState.number(throttleInterval)
        o["throttle_retry_limit"] = .int(throttleRetryLimit)
        o["max_query_depth"] = .int(maxQueryDepth)
        o["access_rights"] = .object(accessRights.mapValues(\.json))
        o["hmac_enabled"] = .bool(hmacEnabled)
        o["enable_http_signature_validation"] = .bool(enableHTTPSignatureValidation)
        o["active"] = .bool(active)
        o["is_inactive"] = .bool(isInactive)
        o["tags"] = .array(tags.map { .string($0) })
        o["key_expires_in"] = .int(keyExpiresIn)
        if !postExpiryAction.isEmpty { o["post_expiry_action"] = .string(postExpiryAction) }
        o["post_expiry_grace_period"] = .int(postExpiryGracePeriod)
        o["partitions"] = partitions.json
        o["last_updated"] = .string(lastUpdated)
        o["meta_data"] = .object(metaData)
        o["smoothing"] = smoothing
        return .object(o)
    }

    /// The policy's own limits as a per-API limit.
    public var limit: APILimit {
        var limit = APILimit()
        limit.rate = rate
        limit.per = per
        limit.smoothing = smoothing
        limit.quotaMax = quotaMax
        limit.quotaRenewalRate = quotaRenewalRate
        limit.throttleInterval = throttleInterval
        limit.throttleRetryLimit = throttleRetryLimit
        limit.maxQueryDepth = maxQueryDepth
        return limit
    }
}

/// `partitions`: a partitioned policy supplies only the parts it names, so
/// one policy can set the quota and another the access rights of one key.
public struct PolicyPartitions: Sendable, Equatable {
    /// `quota`.
    public var quota: Bool = false
    /// `rate_limit`.
    public var rateLimit: Bool = false
    /// `complexity` (GraphQL query depth).
    public var complexity: Bool = false
    /// `acl`: access rights.
    public var acl: Bool = false
    /// `per_api`: each API in the policy keeps its own limits and counters.
    public var perAPI: Bool = false

    /// Creates partitions; all false means the whole policy applies.
    public init(quota: Bool = false, rateLimit: Bool = false, complexity: Bool = false, acl: Bool = false, perAPI: Bool = false) {
        self.quota = quota
        self.rateLimit = rateLimit
        self.complexity = complexity
        self.acl = acl
        self.perAPI = perAPI
    }

    /// Whether any of quota, rate limit, complexity or ACL is partitioned.
    public var isPartitioned: Bool { quota || rateLimit || acl || complexity }

    var json: JSONValue {
        .object(["quota": .bool(quota), "rate_limit": .bool(rateLimit), "complexity": .bool(complexity),
                 "acl": .bool(acl), "per_api": .bool(perAPI)])
    }
}
