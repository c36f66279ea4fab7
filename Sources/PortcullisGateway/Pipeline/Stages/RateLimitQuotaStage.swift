import PortcullisCore
import PortcullisSessions

/// 429 "Rate Limit Exceeded" and 403 "Quota exceeded", on atomic store
/// counters so every node counts against the same limits.
///
/// The rate limit is a sliding window over two fixed windows of `per`
/// seconds: the previous window's count is weighted by how much of it still
/// overlaps the last `per` seconds.
struct RateLimitQuotaStage: PipelineStage {
    let api: LoadedAPI
    let services: GatewayServices
    var name: String { "rate_limit_quota" }

    func run(_ request: inout GatewayRequest) async throws -> StageOutcome {
        guard let key = request.key, let session = request.session?.session else { return .next }
        if !api.definition.disableRateLimit, session.rate > 0, session.per > 0 {
            try await checkRate(key: key, rate: session.rate, per: session.per)
        }
        if !api.definition.disableQuota, session.quotaMax > 0 {
            if case .exceeded = try await services.sessions.consumeQuota(key: key, session: session) {
                throw GatewayError.quotaExceeded
            }
        }
        return .next
    }

    private func checkRate(key: String, rate: Double, per: Double) async throws {
        let now = services.clock.now().timeIntervalSince1970
        let window = Int64((now / per).rounded(.down))
        let name = services.sessions.storageKey(for: key)
        let ttl = Int64(per.rounded(.up)) * 2 + 1
        let current: Int64
        let previous: String?
        do {
            current = try await services.store.increment(key: "rate-limit-\(name)-\(window)", ttlSecondsOnCreate: ttl,
                                                         repairMissingTTL: true)
            previous = try await services.store.value(forKey: "rate-limit-\(name)-\(window - 1)")
        } catch {
            throw GatewayError.storeUnavailable("rate limit counter: \(error)")
        }
        let elapsedFraction = (now - Double(window) * per) / per
        let weighted = Double(Int64(previous ?? "0") ?? 0) * (1 - elapsedFraction) + Double(current)
        if weighted > rate { throw GatewayError.rateLimited }
    }
}
