import PortcullisCore
import PortcullisSessions

/// The session of a JWT subject on an API with `jwt_default_policies` or
/// `jwt_policy_field_name` (Tyk's centralised JWT): created from the base
/// policy on the subject's first token, and kept naming the token's policy
/// on later ones. The session is stored under the identity claim, so every
/// token for one subject shares its quota and rate counters.
///
/// A token's `exp` later than the session's `expires` moves `expires` to
/// it, as Tyk does, so a session outlives its trial period while its
/// tokens are valid; a token without `exp` leaves `expires` alone.
struct JWTSessions {
    let api: LoadedAPI
    let services: GatewayServices

    /// The subject's session, created or brought up to date and written
    /// (conditionally on the record read, so a revocation in between wins).
    func session(for identity: JWTIdentity, settings: JWTSettings, overlay: SessionOverlay) async throws -> VersionedSession {
        let (baseID, fromDefaults) = try basePolicy(identity, settings)
        for _ in 0..<3 {
            switch try await services.sessions.sessionForAuth(key: identity.subject, overlay: overlay) {
            case .notFound:
                return try await create(identity, baseID: baseID, fromDefaults ? settings.defaultPolicies : [], overlay: overlay)
            case .valid(let found, _), .expired(let found), .inactive(let found):
                guard let updated = try update(found.session, identity, baseID: baseID, defaults: fromDefaults ? settings.defaultPolicies : nil) else {
                    return found
                }
                let result = try await services.sessions.writeBack(key: identity.subject, session: updated, baseVersion: found.version,
                                                                   apiID: api.definition.apiID)
                switch result {
                case .written(let version): return VersionedSession(session: updated, version: version)
                case .deferred: return VersionedSession(session: updated, version: found.version)
                case .superseded: continue
                }
            }
        }
        throw GatewayError.storeUnavailable("the session of JWT subject \(services.displayKey(identity.subject)) kept changing while it was updated")
    }

    /// The token's policy claim, else the first default policy; it must
    /// be loaded and belong to the API's organisation.
    private func basePolicy(_ identity: JWTIdentity, _ settings: JWTSettings) throws -> (String, fromDefaults: Bool) {
        let fromClaim = identity.policyID
        guard let id = fromClaim ?? settings.defaultPolicies.first else {
            throw refusal("the token has no '\(settings.policyFieldName)' claim and the API sets no jwt_default_policies", identity)
        }
        guard let policy = services.policies.current[id] else {
            throw refusal("policy '\(id)' is not loaded", identity)
        }
        guard policy.orgID == api.definition.orgID else {
            throw refusal("policy '\(id)' belongs to org_id '\(policy.orgID)', the API to '\(api.definition.orgID)'", identity)
        }
        return (id, fromClaim == nil)
    }

    /// A new session from the base policy (Tyk's `generateSessionFromPolicy`).
    private func create(_ identity: JWTIdentity, baseID: String, _ defaults: [String], overlay: SessionOverlay) async throws -> VersionedSession {
        guard let policy = services.policies.current[baseID] else { throw refusal("policy '\(baseID)' is not loaded", identity) }
        let now = services.clock.unixSeconds()
        var session = SessionState()
        session.applyPolicies = [baseID] + defaults.filter { $0 != baseID }
        session.orgID = api.definition.orgID
        session.allowance = policy.rate
        session.rate = policy.rate
        session.per = policy.per
        session.throttleInterval = policy.throttleInterval
        session.throttleRetryLimit = policy.throttleRetryLimit
        session.maxQueryDepth = policy.maxQueryDepth
        session.quotaMax = policy.quotaMax
        session.quotaRenewalRate = policy.quotaRenewalRate
        session.accessRights = policy.accessRights
        session.hmacEnabled = policy.hmacEnabled
        session.enableHTTPSignatureValidation = policy.enableHTTPSignatureValidation
        session.isInactive = policy.isInactive
        session.tags = policy.tags
        if policy.keyExpiresIn > 0 { session.expires = now + policy.keyExpiresIn }
        if let exp = identity.expires, exp > session.expires { session.expires = exp }
        session.metaData = ["TykJWTSessionID": .string(identity.subject)]
        session.alias = identity.subject
        services.logger.info("created the session of a JWT subject from its policy", metadata: [
            "api_id": .string(api.definition.apiID), "key": .string(services.displayKey(identity.subject)),
            "policy_id": .string(baseID), "expires": .stringConvertible(session.expires),
        ])
        return try await services.sessions.addOrUpdate(key: identity.subject, session: session, suppressReset: false,
                                                       overlay: overlay, trialPeriod: false)
    }

    /// The session with the token's policy and expiry, or nil when it
    /// already has them. `defaults` is set when the base policy came from
    /// `jwt_default_policies` (a change to that list is picked up).
    private func update(_ stored: SessionState, _ identity: JWTIdentity, baseID: String, defaults: [String]?) throws -> SessionState? {
        let current = stored.policyIDs
        guard !current.isEmpty else {
            throw refusal("the stored session names no policy", identity)
        }
        var session = stored
        var changed = false
        var listChanged = false
        if let defaults {
            listChanged = current.contains { !defaults.contains($0) && $0 != baseID } || defaults.contains { !current.contains($0) }
        }
        if !current.contains(baseID) || listChanged {
            session.applyPolicyID = ""
            session.applyPolicies = [baseID] + (defaults ?? []).filter { $0 != baseID }
            changed = true
        }
        if let exp = identity.expires, exp > session.expires {
            session.expires = exp
            changed = true
        }
        return changed ? session : nil
    }

    private func refusal(_ reason: String, _ identity: JWTIdentity) -> GatewayError {
        services.logger.error("JWT refused: \(reason)", metadata: [
            "api_id": .string(api.definition.apiID), "key": .string(services.displayKey(identity.subject)),
        ])
        return GatewayError.noMatchingPolicy(reason)
    }
}
