import PortcullisCore

/// 429 "API Rate Limit Exceeded": the API-level limit all clients share
/// (`global_rate_limit`, Tyk OAS `upstream.rateLimit`), counted on one
/// store counter per API so every node enforces the same limit. Runs after
/// the key's own limits, as in Tyk; present only on APIs that set one.
struct APIRateLimitStage: PipelineStage {
    let api: LoadedAPI
    let limit: APIRateLimit
    let services: GatewayServices
    var name: String { "api_rate_limit" }

    func runInline(_ request: inout GatewayRequest) throws -> StageOutcome? {
        request.loop.checksLimits ? nil : .next
    }

    func run(_ request: inout GatewayRequest) async throws -> StageOutcome {
        let counter = "apilimiter-\(api.definition.orgID)\(api.definition.apiID)"
        let window = RateWindow(counter: counter, rate: limit.rate, per: limit.per)
        if let wait = try await window.check(store: services.store, now: services.clock.now().timeIntervalSince1970) {
            request.responseHeaders.set("Retry-After", String(wait))
            throw GatewayError.apiRateLimited
        }
        return .next
    }
}
