import PortcullisSessions

/// 401 "Key has expired, please renew" / 403 "Key is inactive, please renew".
///
/// Unlike Tyk, the session checked is the newest one this request knows:
/// when auth found the key expired or a post_key_auth hook wrote a session,
/// it is looked up again overlay-first (and any rejection is confirmed
/// against the store), so a renewal made earlier in the request is honoured.
struct KeyExpiryStage: PipelineStage {
    let services: GatewayServices
    var name: String { "key_expiry" }

    /// A session that is neither expired nor inactive, with nothing written
    /// in this request, passes at once. After a write in this request the
    /// newest session is looked up again: the overlay or this node's
    /// coherent cache decide at once when they hold one that is accepted,
    /// exactly as ``run(_:)``'s lookup would; anything else waits for it.
    func runInline(_ request: inout GatewayRequest) throws -> StageOutcome? {
        guard let current = request.session else { return .next }
        guard services.race == nil else { return nil }
        guard request.overlay.count > 0 else {
            let rejected = current.session.isInactive || current.session.isExpired(at: services.clock.unixSeconds())
            return rejected ? nil : .next
        }
        guard let key = request.key, let found = services.sessions.acceptedWithoutStore(key: key, overlay: request.overlay) else {
            return nil
        }
        try adoptNewest(found, into: &request)
        return .next
    }

    /// The newest accepted session becomes the request's; a policy can
    /// still make a key inactive that is active by itself.
    private func adoptNewest(_ found: VersionedSession, into request: inout GatewayRequest) throws {
        try request.adopt(found, services: services)
        if request.session?.session.isInactive == true { throw GatewayError.keyInactive }
    }

    func run(_ request: inout GatewayRequest) async throws -> StageOutcome {
        guard let current = request.session else { return .next }
        let now = services.clock.unixSeconds()
        let rejected = current.session.isInactive || current.session.isExpired(at: now)
        if services.race != nil, rejected {
            // Tyk checks only the copy auth loaded.
            throw current.session.isInactive ? GatewayError.keyInactive : GatewayError.keyExpired
        }
        guard let key = request.key, rejected || request.overlay.count > 0 else {
            if rejected { throw current.session.isInactive ? GatewayError.keyInactive : GatewayError.keyExpired }
            return .next
        }
        switch try await services.sessions.sessionForAuth(key: key, overlay: request.overlay) {
        case .valid(let found, _):
            try adoptNewest(found, into: &request)
            return .next
        case .expired:
            throw GatewayError.keyExpired
        case .inactive:
            throw GatewayError.keyInactive
        case .notFound:
            throw GatewayError.accessDisallowed
        }
    }
}
