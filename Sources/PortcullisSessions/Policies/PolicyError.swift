/// Why a key's policies could not be applied. The request is refused
/// (403, fail closed): a key never gets more than its policies grant.
public enum PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `apply_policies` names a policy that is not loaded.
    case notFound(policyID: String)
    /// The policy belongs to another organisation than the API.
    case otherOrganisation(policyID: String, policyOrg: String, apiOrg: String)
    /// A policy sets `per_api` together with quota, rate or ACL partitions.
    case perAPIWithPartitions(policyID: String)
    /// Per-API and partitioned policies are applied to one key.
    case mixedPerAPIAndPartitions(policyID: String)
    /// None of the key's policies grants any API.
    case noAccessRights(policyIDs: [String])

    /// One line for the log.
    public var description: String {
        switch self {
        case .notFound(let id):
            return "policy '\(id)' is not loaded (check policies.policy_path / policy_record_name and reload)"
        case .otherOrganisation(let id, let policyOrg, let apiOrg):
            return "policy '\(id)' belongs to org_id '\(policyOrg)', the API to '\(apiOrg)'; a policy applies only within its organisation"
        case .perAPIWithPartitions(let id):
            return "policy '\(id)' sets partitions.per_api together with quota, rate_limit, acl or complexity partitions"
        case .mixedPerAPIAndPartitions(let id):
            return "policy '\(id)' cannot be applied: a key's policies are either all per-API or all partitioned"
        case .noAccessRights(let ids):
            return "policies \(ids.map { "'\($0)'" }.joined(separator: ", ")) grant no API (empty access_rights)"
        }
    }

    /// The policy the error is about (the first one for ``noAccessRights(policyIDs:)``).
    public var policyID: String {
        switch self {
        case .notFound(let id), .otherOrganisation(let id, _, _), .perAPIWithPartitions(let id), .mixedPerAPIAndPartitions(let id):
            return id
        case .noAccessRights(let ids):
            return ids.first ?? ""
        }
    }
}
