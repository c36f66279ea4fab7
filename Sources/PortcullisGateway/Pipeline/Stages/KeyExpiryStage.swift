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
    /// in this request, passes at once; anything else is looked up again.
    func runInline(_ request: inout GatewayRequest) throws -> StageOutcome? {
        guard let current = request.session else { return .next }
        guard services.race == nil, request.overlay.count == 0 else { return nil }
        let rejected = current.session.isInactive || current.session.isExpired(at: services.clock.unixSeconds())
        return rejected ? nil : .next
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
            try request.adopt(found, services: services)
            // A policy can make a key inactive that is active by itself.
            if request.session?.session.isInactive == true { throw GatewayError.keyInactive }
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
