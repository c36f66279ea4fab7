import PortcullisCore

/// The rate limit and quota of one API in a session's or a policy's
/// `access_rights.<api>.limit` (Tyk's `user.APILimit`). A session without
/// a per-API limit uses its top-level `rate`, `per` and `quota_*` fields.
public struct APILimit: Sendable, Equatable {
    /// `rate`: requests per `per` seconds.
    public var rate: Double = 0
    /// `per`: the rate window in seconds.
    public var per: Double = 0
    /// `throttle_interval`.
    public var throttleInterval: Double = 0
    /// `throttle_retry_limit`.
    public var throttleRetryLimit: Int64 = 0
    /// `max_query_depth`.
    public var maxQueryDepth: Int64 = 0
    /// `quota_max`: -1 unlimited, 0 no quota.
    public var quotaMax: Int64 = 0
    /// `quota_renews`: Unix seconds when the window ends.
    public var quotaRenews: Int64 = 0
    /// `quota_remaining`.
    public var quotaRemaining: Int64 = 0
    /// `quota_renewal_rate`: the quota window in seconds.
    public var quotaRenewalRate: Int64 = 0
    /// `smoothing`, kept as JSON.
    public var smoothing: JSONValue = .null

    /// An empty limit (every field zero).
    public init() {}

    /// Reads a `limit` member leniently: missing or mistyped fields read as
    /// zero, as they are in sessions written by other tools.
    public init(json value: JSONValue) {
        guard case .object(let o) = value else { return }
        func number(_ name: String) -> Double {
            switch o[name] {
            case .int(let i): return Double(i)
            case .double(let d): return d
            default: return 0
            }
        }
        func integer(_ name: String) -> Int64 {
            let value = number(name)
            return value.isFinite && abs(value) < 9.2e18 ? Int64(value.rounded(.towardZero)) : 0
        }
        rate = number("rate")
        per = number("per")
        throttleInterval = number("throttle_interval")
        throttleRetryLimit = integer("throttle_retry_limit")
        maxQueryDepth = integer("max_query_depth")
        quotaMax = integer("quota_max")
        quotaRenews = integer("quota_renews")
        quotaRemaining = integer("quota_remaining")
        quotaRenewalRate = integer("quota_renewal_rate")
        smoothing = o["smoothing"] ?? .null
    }

    /// Whether nothing is set, so the session's top-level limits apply.
    public var isEmpty: Bool {
        rate == 0 && per == 0 && throttleInterval == 0 && throttleRetryLimit == 0 && maxQueryDepth == 0
            && quotaMax == 0 && quotaRenews == 0 && quotaRemaining == 0 && quotaRenewalRate == 0
    }

    /// Seconds between requests the rate allows; 0 when there is no rate
    /// limit. A shorter interval is a more generous limit.
    public var interval: Double {
        rate > 0 && per > 0 ? per / rate : 0
    }

    /// The limit as the JSON object Tyk writes (zero fields left out).
    public var json: JSONValue {
        var o: [String: JSONValue] = [:]
        if rate != 0 { o["rate"] = SessionState.number(rate) }
        if per != 0 { o["per"] = SessionState.number(per) }
        if throttleInterval != 0 { o["throttle_interval"] = SessionState.number(throttleInterval) }
        if throttleRetryLimit != 0 { o["throttle_retry_limit"] = .int(throttleRetryLimit) }
        if maxQueryDepth != 0 { o["max_query_depth"] = .int(maxQueryDepth) }
        if quotaMax != 0 { o["quota_max"] = .int(quotaMax) }
        if quotaRenews != 0 { o["quota_renews"] = .int(quotaRenews) }
        if quotaRemaining != 0 { o["quota_remaining"] = .int(quotaRemaining) }
        if quotaRenewalRate != 0 { o["quota_renewal_rate"] = .int(quotaRenewalRate) }
        if smoothing != .null { o["smoothing"] = smoothing }
        return .object(o)
    }
}

extension AccessDefinition {
    /// `limit` as a typed value; setting an empty limit writes `null`.
    public var apiLimit: APILimit {
        get { APILimit(json: limit) }
        set { limit = newValue.isEmpty ? .null : newValue.json }
    }
}

extension SessionState {
    /// The policies the key names: `apply_policies`, else the legacy
    /// `apply_policy_id`; empty when the key carries its own rights.
    public var policyIDs: [String] {
        if !applyPolicies.isEmpty { return applyPolicies }
        return applyPolicyID.isEmpty ? [] : [applyPolicyID]
    }

    /// The session's top-level limits as one value.
    public var topLevelLimit: APILimit {
        var limit = APILimit()
        limit.rate = rate
        limit.per = per
        limit.smoothing = smoothing
        limit.quotaMax = quotaMax
        limit.quotaRenewalRate = quotaRenewalRate
        limit.quotaRenews = quotaRenews
        limit.throttleInterval = throttleInterval
        limit.throttleRetryLimit = throttleRetryLimit
        limit.maxQueryDepth = maxQueryDepth
        return limit
    }

    /// The limits and counter scope that govern requests to `apiID`: the
    /// API's own `limit` when the access right has one (set by per-API or
    /// partitioned policies, or the key itself), else the top-level fields.
    /// The scope names a separate quota and rate counter
    /// (`quota-<scope>-<key>`); "" is the key's shared counter.
    public func effectiveLimit(apiID: String) -> (limit: APILimit, scope: String) {
        if let right = accessRights[apiID] {
            guard case .object = right.limit else { return (topLevelLimit, right.allowanceScope) }
            let limit = right.apiLimit
            guard !limit.isEmpty else { return (topLevelLimit, right.allowanceScope) }
            // A key's own per-API limit counts on that API's counters, as in Tyk.
            let scope = right.allowanceScope.isEmpty && policyIDs.isEmpty ? apiID : right.allowanceScope
            return (limit, scope)
        }
        return (topLevelLimit, "")
    }
}
