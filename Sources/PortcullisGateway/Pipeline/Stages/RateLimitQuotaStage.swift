import PortcullisCore
import PortcullisSessions

/// 429 "Rate Limit Exceeded" and 403 "Quota exceeded", on atomic store
/// counters so every node counts against the same limits.
///
/// The limits are the API's own in the session's access rights when it
/// has them (per-API and partitioned policies set them), else the key's
/// top-level ones. An access right with an `allowance_scope` counts on its
/// own counters (`quota-<scope>-<key>`), others share the key's.
/// The rate limit is a ``RateWindow``.
struct RateLimitQuotaStage: PipelineStage {
    let api: LoadedAPI
    let services: GatewayServices
    var name: String { "rate_limit_quota" }

    /// A session with neither a rate limit nor a quota on this API passes
    /// at once; counting waits for the store.
    func runInline(_ request: inout GatewayRequest) throws -> StageOutcome? {
        // Inside a `tyk://` loop limits apply only when it asked (`check_limits=true`).
        guard request.loop.checksLimits, request.key != nil, let session = request.session?.session,
              !(api.definition.disableRateLimit && api.definition.disableQuota) else { return .next }
        let (limit, _) = session.effectiveLimit(apiID: api.definition.apiID)
        let limited = !api.definition.disableRateLimit && limit.rate > 0 && limit.per > 0
        let counted = !api.definition.disableQuota && limit.quotaMax > 0
        return limited || counted ? nil : .next
    }

    func run(_ request: inout GatewayRequest) async throws -> StageOutcome {
        guard let key = request.key, let session = request.session?.session else { return .next }
        let (limit, scope) = session.effectiveLimit(apiID: api.definition.apiID)
        if !api.definition.disableRateLimit, limit.rate > 0, limit.per > 0 {
            if let wait = try await checkRate(key: key, scope: scope, rate: limit.rate, per: limit.per) {
                request.responseHeaders.set("Retry-After", String(wait))
                throw GatewayError.rateLimited
            }
        }
        if !api.definition.disableQuota, limit.quotaMax > 0 {
            let quota = QuotaSettings(max: limit.quotaMax, renewalRate: limit.quotaRenewalRate,
                                      renews: scope.isEmpty ? session.quotaRenews : limit.quotaRenews, scope: scope)
            switch try await services.sessions.consumeQuota(key: key, quota: quota) {
            case .exceeded(let renews):
                request.responseHeaders.set("Retry-After", String(max(1, renews - services.clock.unixSeconds())))
                throw GatewayError.quotaExceeded
            case .allowed(let remaining, let renews):
                // A scoped counter belongs to a policy's API, not to the key's own fields.
                if scope.isEmpty { try await recordQuota(remaining: remaining, renews: renews, request: &request) }
            case .unlimited:
                break
            }
        }
        return .next
    }

    /// Keeps `quota_remaining` and `quota_renews` in the stored session up
    /// to date, as Tyk's request-session update does, so the admin API and
    /// TykGetKeyData show the usage and a repaired window stays repaired.
    /// Written only over the record this request read.
    private func recordQuota(remaining: Int64, renews: Int64, request: inout GatewayRequest) async throws {
        guard let key = request.key, let current = request.session,
              current.session.quotaRemaining != remaining || current.session.quotaRenews != renews,
              let stored = request.changeSession({
                  $0.quotaRemaining = remaining
                  $0.quotaRenews = renews
              }) else { return }
        let result = try await services.sessions.writeBack(key: key, session: stored, baseVersion: current.version,
                                                           apiID: request.api.definition.apiID)
        if case .written(let version) = result { request.sessionWritten(version: version) }
    }

    /// nil when allowed; otherwise whole seconds until the window slides, for `Retry-After`.
    private func checkRate(key: String, scope: String, rate: Double, per: Double) async throws -> Int? {
        let name = (scope.isEmpty ? "" : scope + "-") + services.sessions.storageKey(for: key)
        return try await RateWindow(counter: name, rate: rate, per: per).check(store: services.store, now: services.clock.now().timeIntervalSince1970)
    }
}
