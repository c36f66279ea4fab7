import PortcullisCore

/// The loaded policies, by id: a value, swapped whole on reload, so a
/// request applies one consistent set.
public struct PolicySet: Sendable, Equatable {
    /// The policies by `id`.
    public private(set) var policies: [String: Policy]

    /// A set of policies; a later one with the same id replaces an earlier.
    public init(_ policies: [Policy] = []) {
        var byID: [String: Policy] = [:]
        for policy in policies { byID[policy.id] = policy }
        self.policies = byID
    }

    /// The policy with `id`.
    public subscript(id: String) -> Policy? { policies[id] }

    /// Whether no policy is loaded.
    public var isEmpty: Bool { policies.isEmpty }

    /// The ids in byte order.
    public var sortedIDs: [String] { policies.keys.sorted { ByteOrder.precedes($0, $1) } }

    /// `session` as its policies make it (Tyk's policy `Apply`): access
    /// rights, rate limit, quota, tags and metadata come from the policies
    /// in `apply_policies`, merged as Tyk merges them (several policies,
    /// partitions, per-API limits). `apiOrgID` is the organisation of the
    /// API being served, when one is; every policy must belong to it.
    ///
    /// Differences from Tyk, all failing closed: any unknown policy id
    /// refuses the key (Tyk skips it when the key names several), and the
    /// key's own `is_inactive` still counts (Tyk lets the policies decide).
    /// A session without policies is returned as it is.
    public func apply(to session: SessionState, apiOrgID: String?) throws(PolicyError) -> SessionState {
        var applier = PolicyApplier(session: session)
        let ids = session.policyIDs
        guard !ids.isEmpty else { return session }
        var resolved: [Policy] = []
        for id in ids {
            guard let policy = policies[id] else { throw .notFound(policyID: id) }
            if let apiOrgID, policy.orgID != apiOrgID {
                throw .otherOrganisation(policyID: id, policyOrg: policy.orgID, apiOrg: apiOrgID)
            }
            if policy.partitions.perAPI && policy.partitions.isPartitioned { throw .perAPIWithPartitions(policyID: id) }
            resolved.append(policy)
        }
        return try applier.apply(resolved)
    }

    /// `session` as reads show it (`TykGetKeyData`, `GET /tyk/keys`): with
    /// its policies applied, or as stored with the reason when they cannot
    /// be; a read never refuses.
    public func shown(_ session: SessionState, apiOrgID: String?) -> (session: SessionState, refusal: PolicyError?) {
        guard !session.policyIDs.isEmpty else { return (session, nil) }
        do {
            return (try apply(to: session, apiOrgID: apiOrgID), nil)
        } catch {
            return (session, error)
        }
    }

    /// The trial period a new key under these policies gets: the first
    /// listed policy with `key_expires_in` (Tyk's `checkAndApplyTrialPeriod`
    /// lets each one overwrite, so the last one wins; so does this).
    public func trialPeriod(for session: SessionState) -> Int64? {
        var found: Int64?
        for id in session.policyIDs {
            if let policy = policies[id], policy.keyExpiresIn > 0 { found = policy.keyExpiresIn }
        }
        return found
    }
}

/// One application of policies to one session; the state Tyk keeps in its
/// `applyStatus` while it walks the policies.
private struct PolicyApplier {
    var session: SessionState
    var rights: [String: AccessDefinition] = [:]
    /// The policy (or scope) that last set each API's rights; Tyk's `Limit.SetBy`.
    var setBy: [String: String] = [:]
    var didQuota: Set<String> = []
    var didRateLimit: Set<String> = []
    var didACL: Set<String> = []
    var didComplexity: Set<String> = []
    var didPerAPI = false
    var didPartition = false

    init(session: SessionState) {
        self.session = session
    }

    mutating func apply(_ policies: [Policy]) throws(PolicyError) -> SessionState {
        clear(for: policies)
        var inactive = false
        var tags = session.tags
        for policy in policies {
            if policy.partitions.perAPI {
                try applyPerAPI(policy)
            } else {
                try applyPartitions(policy)
            }
            inactive = inactive || policy.isInactive
            for tag in policy.tags where !tags.contains(tag) { tags.append(tag) }
            for (name, value) in policy.metaData { session.metaData[name] = value }
            if policy.lastUpdated > session.lastUpdated { session.lastUpdated = policy.lastUpdated }
            if !policy.postExpiryAction.isEmpty { session.postExpiryAction = policy.postExpiryAction }
            if policy.postExpiryGracePeriod != 0 { session.postExpiryGracePeriod = policy.postExpiryGracePeriod }
        }
        session.isInactive = session.isInactive || inactive
        session.tags = tags
        inheritTopLevelLimits()
        copyLimitsToTopLevel()
        if !didACL.isEmpty { session.accessRights = rights }
        if rights.isEmpty { throw .noAccessRights(policyIDs: policies.map(\.id)) }
        return session
    }

    /// Zeroes what the policies will supply, so a larger value already in
    /// the session cannot outvote them. `quota_remaining` is kept: it is the
    /// key's usage, recorded after each request.
    private mutating func clear(for policies: [Policy]) {
        for policy in policies {
            let whole = !policy.partitions.isPartitioned
            if policy.partitions.quota || whole {
                session.quotaMax = 0
            }
            if policy.partitions.rateLimit || whole {
                session.rate = 0
                session.per = 0
                session.smoothing = .null
                session.throttleRetryLimit = 0
                session.throttleInterval = 0
            }
            if policy.partitions.complexity || whole {
                session.maxQueryDepth = 0
            }
        }
    }

    /// A `per_api` policy: each API keeps its own limit (the policy's
    /// when the API has none) and its own counters.
    private mutating func applyPerAPI(_ policy: Policy) throws(PolicyError) {
        if didPartition { throw .mixedPerAPIAndPartitions(policyID: policy.id) }
        for apiID in policy.accessRights.keys.sorted(by: ByteOrder.precedes) {
            guard var right = policy.accessRights[apiID] else { continue }
            var scope = apiID
            var limit = right.apiLimit
            if limit.isEmpty {
                scope = policy.id
                limit = policy.limit
            }
            right.allowanceScope = scope
            var owner = scope
            if let existing = session.accessRights[apiID] {
                let existingLimit = existing.apiLimit
                if !existingLimit.isEmpty { limit.quotaRenews = existingLimit.quotaRenews }
                if existing.disableIntrospection { right.disableIntrospection = true }
            }
            right.apiLimit = limit
            if let current = rights[apiID] {
                (right, owner) = Self.mergeAPILevelLimits(policy: right, policyOwner: owner, current: current,
                                                          currentOwner: setBy[apiID] ?? "")
            }
            rights[apiID] = right
            setBy[apiID] = owner
            didACL.insert(apiID)
            didQuota.insert(apiID)
            didRateLimit.insert(apiID)
            didComplexity.insert(apiID)
        }
        if !policy.accessRights.isEmpty { didPerAPI = true }
    }

    /// Two per-API policies on one API: the more generous rate and quota win.
    private static func mergeAPILevelLimits(policy: AccessDefinition, policyOwner: String, current: AccessDefinition,
                                            currentOwner: String) -> (AccessDefinition, String) {
        var merged = policy
        var limit = policy.apiLimit
        let currentLimit = current.apiLimit
        var updated = false
        if limit.interval > currentLimit.interval {
            limit.rate = currentLimit.rate
            limit.per = currentLimit.per
            limit.smoothing = currentLimit.smoothing
            updated = true
        }
        if currentLimit.quotaMax != limit.quotaMax, Self.greater(currentLimit.quotaMax, limit.quotaMax) {
            limit.quotaMax = currentLimit.quotaMax
            updated = true
        }
        if Self.greater(currentLimit.quotaRenewalRate, limit.quotaRenewalRate) { limit.quotaRenewalRate = currentLimit.quotaRenewalRate }
        if limit.quotaMax == -1 { limit.quotaRenewalRate = 0 }
        merged.apiLimit = limit
        guard updated else { return (merged, policyOwner) }
        merged.allowanceScope = current.allowanceScope
        return (merged, currentOwner)
    }

    /// A whole or partitioned policy: merges ACLs, and raises quota and rate
    /// to the policy's where it is more generous.
    private mutating func applyPartitions(_ policy: Policy) throws(PolicyError) {
        let partitioned = policy.partitions.isPartitioned
        if partitioned && didPerAPI { throw .mixedPerAPIAndPartitions(policyID: policy.id) }
        for apiID in policy.accessRights.keys where rights[apiID] == nil {
            rights[apiID] = AccessDefinition()
        }
        for apiID in policy.accessRights.keys.sorted(by: ByteOrder.precedes) {
            guard let granted = policy.accessRights[apiID], var right = rights[apiID] else { continue }
            var limit = right.apiLimit
            if !partitioned || policy.partitions.acl {
                didACL.insert(apiID)
                right = Self.mergeACL(right, granted)
                setBy[apiID] = policy.id
            }
            if !partitioned || policy.partitions.quota {
                didQuota.insert(apiID)
                if Self.greater(policy.quotaMax, limit.quotaMax) {
                    limit.quotaMax = policy.quotaMax
                    if Self.greater(policy.quotaMax, session.quotaMax) { session.quotaMax = policy.quotaMax }
                }
                if policy.quotaRenewalRate > limit.quotaRenewalRate {
                    limit.quotaRenewalRate = policy.quotaRenewalRate
                    if policy.quotaRenewalRate > session.quotaRenewalRate { session.quotaRenewalRate = policy.quotaRenewalRate }
                }
            }
            if !partitioned || policy.partitions.rateLimit {
                didRateLimit.insert(apiID)
                raiseRate(to: policy, apiLimit: &limit)
                if policy.throttleRetryLimit > limit.throttleRetryLimit {
                    limit.throttleRetryLimit = policy.throttleRetryLimit
                    if policy.throttleRetryLimit > session.throttleRetryLimit { session.throttleRetryLimit = policy.throttleRetryLimit }
                }
                if policy.throttleInterval > limit.throttleInterval {
                    limit.throttleInterval = policy.throttleInterval
                    if policy.throttleInterval > session.throttleInterval { session.throttleInterval = policy.throttleInterval }
                }
            }
            if !partitioned || policy.partitions.complexity {
                didComplexity.insert(apiID)
                if Self.greater(policy.maxQueryDepth, limit.maxQueryDepth) {
                    limit.maxQueryDepth = policy.maxQueryDepth
                    if Self.greater(policy.maxQueryDepth, session.maxQueryDepth) { session.maxQueryDepth = policy.maxQueryDepth }
                }
            }
            if let existing = session.accessRights[apiID]?.apiLimit, !existing.isEmpty {
                limit.quotaRenews = existing.quotaRenews
            }
            right.apiLimit = limit
            rights[apiID] = right
        }
        if policy.accessRights.isEmpty {
            // A policy without access rights sets the key-wide limits.
            if !partitioned || policy.partitions.rateLimit {
                session.rate = policy.rate
                session.per = policy.per
                session.smoothing = policy.smoothing
                session.throttleInterval = policy.throttleInterval
                session.throttleRetryLimit = policy.throttleRetryLimit
            }
            if !partitioned || policy.partitions.complexity { session.maxQueryDepth = policy.maxQueryDepth }
            if !partitioned || policy.partitions.quota {
                session.quotaMax = policy.quotaMax
                session.quotaRenewalRate = policy.quotaRenewalRate
            }
        }
        session.hmacEnabled = session.hmacEnabled || policy.hmacEnabled
        session.enableHTTPSignatureValidation = session.enableHTTPSignatureValidation || policy.enableHTTPSignatureValidation
        didPartition = partitioned
    }

    /// Takes the policy's rate where the API's (or the key's) is unset or
    /// stricter: a policy's rate limit is a floor, never a cut.
    private mutating func raiseRate(to policy: Policy, apiLimit: inout APILimit) {
        let offered = policy.limit
        guard offered.rate != 0, offered.per != 0 else { return }
        if apiLimit.rate == 0 || apiLimit.per == 0 || apiLimit.interval > offered.interval {
            apiLimit.rate = offered.rate
            apiLimit.per = offered.per
            apiLimit.smoothing = offered.smoothing
        }
        let own = session.topLevelLimit
        if own.rate == 0 || own.per == 0 || own.interval > offered.interval {
            session.rate = offered.rate
            session.per = offered.per
            session.smoothing = offered.smoothing
        }
    }

    /// Rights granted by ACL partitions only take the rest from the key's
    /// top level; with several policies setting ACLs each API counts on
    /// its own scope.
    private mutating func inheritTopLevelLimits() {
        let distinctOwners = Set(setBy.values.filter { !$0.isEmpty })
        for apiID in Array(rights.keys) {
            guard var right = rights[apiID] else { continue }
            guard didACL.contains(apiID) else {
                rights[apiID] = nil
                continue
            }
            var limit = right.apiLimit
            if !didRateLimit.contains(apiID) {
                limit.rate = session.rate
                limit.per = session.per
                limit.smoothing = session.smoothing
                limit.throttleInterval = session.throttleInterval
                limit.throttleRetryLimit = session.throttleRetryLimit
                right.endpoints = .null
            }
            if !didComplexity.contains(apiID) { limit.maxQueryDepth = session.maxQueryDepth }
            if !didQuota.contains(apiID) {
                limit.quotaMax = session.quotaMax
                limit.quotaRenewalRate = session.quotaRenewalRate
                limit.quotaRenews = session.quotaRenews
            }
            if distinctOwners.count > 1, right.allowanceScope.isEmpty, let owner = setBy[apiID], !owner.isEmpty {
                right.allowanceScope = owner
            }
            right.apiLimit = limit
            rights[apiID] = right
        }
    }

    /// Policies about one API set the key's top-level fields too (Tyk's
    /// legacy root variables).
    private mutating func copyLimitsToTopLevel() {
        guard didQuota.count == 1, didRateLimit.count == 1, didComplexity.count == 1 else { return }
        for apiID in rights.keys.sorted(by: ByteOrder.precedes) {
            guard let limit = rights[apiID]?.apiLimit else { continue }
            session.rate = limit.rate
            session.per = limit.per
            session.smoothing = limit.smoothing
            session.quotaMax = limit.quotaMax
            if limit.quotaRenews != 0 { session.quotaRenews = limit.quotaRenews }
            session.quotaRenewalRate = limit.quotaRenewalRate
            session.maxQueryDepth = limit.maxQueryDepth
        }
    }

    /// Merges one policy's grant for an API into what earlier ones granted.
    private static func mergeACL(_ current: AccessDefinition, _ granted: AccessDefinition) -> AccessDefinition {
        var merged = current
        if merged.apiID.isEmpty { merged.apiID = granted.apiID }
        if merged.apiName.isEmpty { merged.apiName = granted.apiName }
        if granted.disableIntrospection { merged.disableIntrospection = true }
        for version in granted.versions where !merged.versions.contains(version) { merged.versions.append(version) }
        merged.allowedURLs = mergeAllowedURLs(merged.allowedURLs, granted.allowedURLs)
        if case .null = merged.restrictedTypes { merged.restrictedTypes = granted.restrictedTypes }
        if case .null = merged.allowedTypes { merged.allowedTypes = granted.allowedTypes }
        if case .null = merged.fieldAccessRights { merged.fieldAccessRights = granted.fieldAccessRights }
        return merged
    }

    /// `allowed_urls` of two policies: every URL of either, with the union
    /// of their methods, in first-seen order.
    static func mergeAllowedURLs(_ first: JSONValue, _ second: JSONValue) -> JSONValue {
        var order: [String] = []
        var methods: [String: [JSONValue]] = [:]
        var extra: [String: [String: JSONValue]] = [:]
        for source in [first, second] {
            guard case .array(let specs) = source else { continue }
            for spec in specs {
                guard case .object(let fields) = spec, case .string(let url)? = fields["url"] else { continue }
                var listed: [JSONValue] = []
                if case .array(let given)? = fields["methods"] { listed = given }
                if methods[url] == nil {
                    order.append(url)
                    methods[url] = listed
                    extra[url] = fields
                } else {
                    for method in listed where !(methods[url] ?? []).contains(method) { methods[url, default: []].append(method) }
                }
            }
        }
        guard !order.isEmpty else { return .null }
        return .array(order.map { url in
            var fields = extra[url] ?? [:]
            fields["url"] = .string(url)
            fields["methods"] = .array(methods[url] ?? [])
            return .object(fields)
        })
    }

    /// Compares two limits where -1 means unlimited, the largest value.
    static func greater(_ first: Int64, _ second: Int64) -> Bool {
        if first == -1 { return true }
        if second == -1 { return false }
        return first > second
    }
}
