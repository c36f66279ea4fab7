import Logging
import NIOCore
import PortcullisJS
import PortcullisSessions
import Tracing

/// The whole story of a request, in Tyk's order:
///
/// 1. `pre` — JS pre hooks (empty session; may renew keys with TykSetKeyData)
/// 2. `auth` — token from the API's auth header, or the JS `auth_check` hook;
///    the session is read overlay → cache → store, so a renewal made by a
///    pre hook is the session auth sees
/// 3. `post_key_auth` — JS hooks that see the session
/// 4. `key_expiry` — 401 "Key has expired, please renew" / 403 inactive,
///    decided on the newest session this request knows (overlay first)
/// 5. `access_rights` — the key must grant this API
/// 6. `rate_limit_quota` — 429 / 403 "Quota exceeded", then
///    `api_rate_limit` — 429 for the API's own limit, when it sets one
/// 7. `virtual_endpoint` — JS answers the request itself, or
/// 8. `post` — JS post hooks, then
/// 9. `proxy` — the upstream, and on the way back
/// 10. `response` — JS response hooks
///
/// Keyless APIs skip stages 2–6.
public struct Pipeline: Sendable {
    /// The request stages, in order.
    public let stages: [any PipelineStage]
    /// The response stages, in order.
    public let responseStages: [any ResponseStage]

    /// Builds the pipeline for one API.
    public init(api: LoadedAPI, services: GatewayServices) {
        var stages: [any PipelineStage] = [JSHookStage(phase: .pre, api: api, services: services)]
        if !api.definition.useKeyless {
            stages.append(AuthStage(api: api, services: services))
            stages.append(JSHookStage(phase: .postKeyAuth, api: api, services: services))
            stages.append(KeyExpiryStage(services: services))
            stages.append(AccessRightsStage())
            stages.append(RateLimitQuotaStage(api: api, services: services))
        }
        if let limit = api.definition.globalRateLimit, !api.definition.disableRateLimit {
            stages.append(APIRateLimitStage(api: api, limit: limit, services: services))
        }
        stages.append(VirtualEndpointStage(api: api, services: services))
        stages.append(JSHookStage(phase: .post, api: api, services: services))
        stages.append(ProxyStage(api: api, services: services))
        self.stages = stages
        self.responseStages = api.definition.middleware.response.filter { !$0.disabled }.isEmpty
            ? [] : [ResponseHookStage(api: api, services: services)]
    }

    /// Where a request stands after some of its stages ran.
    public enum Progress: Sendable {
        /// The request is answered (by a stage, or with an error).
        case answered(GatewayResponse)
        /// The stages are done; the upstream has the rest.
        case forward(UpstreamRequest)
        /// Stage `stage` has to wait; ``advance(_:from:services:)`` goes on from there.
        case waiting(stage: Int)
    }

    /// What a request gets when its stages ran out without an answer.
    private static var unanswered: GatewayResponse { GatewayResponse.error(status: 500, message: "no stage answered the request") }

    /// Whether response stages run on the upstream's answer.
    public var hasResponseStages: Bool { !responseStages.isEmpty }

    /// Runs the stages that can decide at once, from `start`, until one
    /// answers, the upstream is next, or a stage has to wait. Errors become
    /// Tyk's error bodies.
    public func advanceInline(_ request: inout GatewayRequest, from start: Int = 0,
                              services: GatewayServices) -> Progress {
        var index = start
        do {
            while index < stages.count {
                request.trace?.enter(index, stages[index].name)
                guard let outcome = try stages[index].runInline(&request) else { return .waiting(stage: index) }
                switch outcome {
                case .next: index += 1
                case .respond(let response): return .answered(response)
                case .forward(let outgoing): return .forward(outgoing)
                }
            }
        } catch {
            return .answered(Self.errorResponse(error, request: request, services: services))
        }
        return .answered(Self.unanswered)
    }

    /// Runs the stages from `start` to the end, waiting where they wait;
    /// the stages after `start` still decide at once where they can.
    /// Never returns ``Progress/waiting(stage:)``.
    public func advance(_ request: inout GatewayRequest, from start: Int, services: GatewayServices) async -> Progress {
        do {
            for index in start..<stages.count {
                let stage = stages[index]
                request.trace?.enter(index, stage.name)
                let decided = index > start ? try stage.runInline(&request) : nil
                let outcome: StageOutcome
                if let decided {
                    outcome = decided
                } else if let trace = request.trace {
                    // Store calls the stage makes become its child spans.
                    outcome = try await InstrumentationContext.$current.withValue(trace.currentContext) { try await stage.run(&request) }
                } else {
                    outcome = try await stage.run(&request)
                }
                switch outcome {
                case .next: continue
                case .respond(let response): return .answered(response)
                case .forward(let outgoing): return .forward(outgoing)
                }
            }
        } catch {
            return .answered(Self.errorResponse(error, request: request, services: services))
        }
        return .answered(Self.unanswered)
    }

    /// The upstream's answer (or why there is none) as the response the
    /// response stages see.
    public func response(to upstream: Result<UpstreamAnswer, GatewayError>, request: GatewayRequest,
                         services: GatewayServices) -> (GatewayResponse, failed: Bool) {
        switch upstream {
        case .success(let answer):
            return (GatewayResponse(status: answer.status, headers: HeaderList(answer.headers), bodyBuffer: answer.body), false)
        case .failure(let error):
            return (Self.errorResponse(error, request: request, services: services), true)
        }
    }

    /// Runs the response stages on the upstream's answer.
    public func runResponseStages(_ response: inout GatewayResponse, request: GatewayRequest,
                                  services: GatewayServices) async {
        request.trace?.enter(stages.count, "response")
        do {
            for stage in responseStages { try await stage.run(&response, for: request) }
        } catch {
            response = Self.errorResponse(error, request: request, services: services)
        }
    }

    /// The response as sent: with the headers the stages asked for.
    public func finish(_ response: GatewayResponse, request: GatewayRequest) -> GatewayResponse {
        guard !request.responseHeaders.isEmpty else { return response }
        var response = response
        for field in request.responseHeaders { response.headers.set(field.name, field.value) }
        return response
    }

    /// Runs a whole request, waiting wherever a stage waits; the upstream
    /// is called through `services.upstream`. For embedders and tests; the
    /// data plane runs the same steps without a task where it can.
    public func handle(_ request: GatewayRequest, services: GatewayServices) async -> GatewayResponse {
        var request = request
        var progress = advanceInline(&request, services: services)
        if case .waiting(let stage) = progress { progress = await advance(&request, from: stage, services: services) }
        switch progress {
        case .answered(let response):
            return finish(response, request: request)
        case .waiting:
            return finish(Self.unanswered, request: request)
        case .forward(let outgoing):
            let upstream: Result<UpstreamAnswer, GatewayError>
            do {
                upstream = .success(try await services.upstream.send(outgoing))
            } catch let error as GatewayError {
                upstream = .failure(error)
            } catch {
                upstream = .failure(.upstreamUnreachable("\(outgoing.summary): \(error)"))
            }
            var (response, failed) = self.response(to: upstream, request: request, services: services)
            if !failed { await runResponseStages(&response, request: request, services: services) }
            return finish(response, request: request)
        }
    }

    /// Maps anything a stage threw to the response Tyk would send, and logs it.
    static func errorResponse(_ error: any Error, request: GatewayRequest, services: GatewayServices) -> GatewayResponse {
        let gatewayError: GatewayError
        switch error {
        case let known as GatewayError:
            gatewayError = known
        case let plugin as PluginError:
            if let storeFailure = request.bindingFaults.firstStoreFailure {
                gatewayError = .storeUnavailable("\(plugin.description) (the session store failed: \(storeFailure))")
            } else if case .timedOut = plugin {
                gatewayError = .pluginTimedOut(plugin.description)
            } else {
                gatewayError = .pluginFailed(plugin.description)
            }
        case let session as SessionError:
            if case .storeFailed = session {
                gatewayError = .storeUnavailable(session.description)
            } else {
                gatewayError = .pluginFailed(session.description)
            }
        default:
            gatewayError = .pluginFailed("\(error)")
        }
        var metadata: Logger.Metadata = [
            "api_id": .string(request.api.definition.apiID), "request_id": .string(request.id),
            "path": .string(request.path), "key": .string(request.key.map(services.displayKey) ?? "--"),
        ]
        if let traceID = request.trace?.traceID, !traceID.isEmpty { metadata["trace_id"] = .string(traceID) }
        if gatewayError.status >= 500 {
            services.logger.error("request error: \(gatewayError)", metadata: metadata)
        } else {
            services.logger.info("request error: \(gatewayError.message)", metadata: metadata)
        }
        services.metrics.recordError(api: request.api.definition.apiID, reason: gatewayError)
        let contentType = request.headers.first("Content-Type")
        if case .pluginOverride = gatewayError {
            return GatewayResponse.error(status: gatewayError.status, message: gatewayError.message, headers: request.responseHeaders,
                                         requestContentType: contentType)
        }
        return GatewayResponse.error(status: gatewayError.status, message: gatewayError.message,
                                     headers: Self.challengeHeaders(gatewayError, request: request), requestContentType: contentType)
    }

    /// What a client needs to recover: `WWW-Authenticate` on 401 (RFC 6750,
    /// with the reason as `error_description`) and `Retry-After` when a rate
    /// limit or quota refused the request.
    static func challengeHeaders(_ error: GatewayError, request: GatewayRequest) -> HeaderList {
        var headers = HeaderList()
        let realm = request.api.definition.apiID.replacingOccurrences(of: "\"", with: "")
        switch error {
        case .authorizationMissing:
            headers.add("WWW-Authenticate", "Bearer realm=\"\(realm)\"")
        case .keyExpired, .jwtRejected:
            headers.add("WWW-Authenticate", "Bearer realm=\"\(realm)\", error=\"invalid_token\", error_description=\"\(error.message)\"")
        case .rateLimited, .quotaExceeded:
            if let wait = request.responseHeaders.first("Retry-After") { headers.add("Retry-After", wait) }
        default:
            break
        }
        return headers
    }
}
