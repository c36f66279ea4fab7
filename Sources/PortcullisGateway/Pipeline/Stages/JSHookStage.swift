import CoreMetrics
import PortcullisCore
import PortcullisJS
import PortcullisSessions

/// Runs an API's JS request hooks of one phase (`pre`, `post_key_auth`,
/// `post`), applying each hook's changes before the next one runs.
struct JSHookStage: PipelineStage {
    enum Phase: String {
        case pre
        case postKeyAuth = "post_key_auth"
        case post
    }

    let phase: Phase
    let hooks: [MiddlewareEntry]
    let services: GatewayServices
    /// Each hook's `portcullis_plugin_duration_seconds` timer, in `hooks` order.
    private let durationTimers: [CoreMetrics.Timer]

    var name: String { phase.rawValue }

    init(phase: Phase, api: LoadedAPI, services: GatewayServices) {
        self.phase = phase
        let section = api.definition.middleware
        let all: [MiddlewareEntry]
        switch phase {
        case .pre: all = section.pre
        case .postKeyAuth: all = section.postKeyAuth
        case .post: all = section.post
        }
        self.hooks = all.filter { !$0.disabled }
        self.services = services
        durationTimers = hooks.map { services.metrics.pluginDurationTimer(api: api.definition.apiID, plugin: $0.name) }
    }

    /// A phase with no hooks goes on at once.
    func runInline(_ request: inout GatewayRequest) throws -> StageOutcome? {
        hooks.isEmpty ? .next : nil
    }

    /// Hooks that do not see the session run from callbacks: each hook is
    /// handed to a worker and the next starts from its completion.
    func start(_ request: GatewayRequest,
               done: @escaping @Sendable (GatewayRequest, Result<StageOutcome, any Error>) -> Void) -> Bool {
        guard services.race == nil, !hooks.isEmpty, phase == .pre || !hooks.contains(where: \.requireSession) else { return false }
        startHook(0, request, done)
        return true
    }

    private func startHook(_ index: Int, _ request: GatewayRequest,
                           _ done: @escaping @Sendable (GatewayRequest, Result<StageOutcome, any Error>) -> Void) {
        guard index < hooks.count else {
            done(request, .success(.next))
            return
        }
        let hook = hooks[index]
        let (mini, encoding, json) = request.hookRequest()
        let api = request.api
        let measured = PluginCall(request, plugin: hook.name, timer: durationTimers[index])
        services.engine.submitMiddleware(realm: api.realm, handler: hook.name, request: mini, requestJSON: json, spec: api.spec,
                                         host: services.pluginHost(for: request, span: measured.span)) { [self] result in
            switch result {
            case .success: measured.finish(error: nil)
            case .failure(let error): measured.finish(error: error)
            }
            var request = request
            do {
                let outcome = try result.get()
                if let response = try HookResults.apply(outcome.request, to: &request, bodyEncoding: encoding,
                                                        original: mini, services: services) {
                    if let loop = LoopLocation.looping(status: response.status, location: response.headers.first("Location")) {
                        let looping = request
                        Task { done(looping, .success(.respond(await services.loops.follow(loop, from: looping, services: services)))) }
                    } else {
                        done(request, .success(.respond(response)))
                    }
                    return
                }
            } catch {
                done(request, .failure(error))
                return
            }
            startHook(index + 1, request, done)
        }
    }

    func run(_ request: inout GatewayRequest) async throws -> StageOutcome {
        for hook in hooks {
            // A hook that asks for the session gets `null` where the request
            // has none (a keyless API), as in Tyk; other hooks get `{}`.
            let wantsSession = phase != .pre && hook.requireSession
            let usesSession = wantsSession && request.session != nil
            let sessionJSON = wantsSession ? (request.session?.session.jsonText() ?? "null") : "{}"
            let (mini, encoding) = request.miniRequest()
            let api = request.api
            let outcome = try await services.timedPlugin(request, plugin: hook.name) { [request] span in
                try await services.engine.runMiddleware(realm: api.realm, handler: hook.name, request: mini,
                                                        sessionJSON: sessionJSON, spec: api.spec,
                                                        host: services.pluginHost(for: request, span: span))
            }
            if let response = try HookResults.apply(outcome.request, to: &request, bodyEncoding: encoding, original: mini,
                                                    services: services) {
                if let loop = LoopLocation.looping(status: response.status, location: response.headers.first("Location")) {
                    return .respond(await services.loops.follow(loop, from: request, services: services))
                }
                return .respond(response)
            }
            if usesSession, let meta = outcome.sessionMeta {
                try await HookResults.replaceMetaData(meta.mapValues(JSONValue.string), in: &request, services: services)
            }
        }
        return .next
    }
}

/// What every request hook's result does to the request, shared by the
/// pre/post/post_key_auth hooks and the auth hook.
enum HookResults {
    /// Applies the request changes, then the overrides as Tyk does: a
    /// non-empty `ResponseError` replaces `ResponseBody` first; then a code
    /// of 400 or more (without `OverrideError`) becomes Tyk's error body,
    /// and any other non-zero code is sent as it is, with that body.
    /// Returns the response to send, if any.
    static func apply(_ changed: MiniRequest, to request: inout GatewayRequest, bodyEncoding: ByteText,
                      original: MiniRequest? = nil, services: GatewayServices) throws -> GatewayResponse? {
        try request.apply(changed, bodyEncoding: bodyEncoding, keepHeaderSpelling: services.config.ignoreCanonicalMIMEHeaderKey,
                          bodyUnchanged: original.map { $0.body == changed.body } ?? false)
        let overrides = changed.returnOverrides
        guard overrides.isSet else { return nil }
        for (name, value) in overrides.responseHeaders where HeaderList.isSafe(name: name, value: value) {
            request.responseHeaders.set(name, value)
        }
        let body = overrides.responseError.isEmpty ? overrides.responseBody : overrides.responseError
        if overrides.responseCode >= 400 && !overrides.overrideError {
            throw GatewayError.pluginOverride(status: overrides.responseCode, message: body)
        }
        guard (100...599).contains(overrides.responseCode) else {
            throw GatewayError.pluginFailed("the plugin asked for status \(overrides.responseCode), which is not an HTTP status")
        }
        return GatewayResponse(status: overrides.responseCode, headers: request.responseHeaders, body: Array(body.utf8))
    }

    /// Replaces the session's `meta_data` when a require_session hook
    /// returned a different map, and writes it back — only over the record
    /// this request read, so a newer renewal is never overwritten.
    static func replaceMetaData(_ meta: [String: JSONValue], in request: inout GatewayRequest, services: GatewayServices) async throws {
        guard let key = request.key, let current = request.session, current.session.metaData != meta,
              let stored = request.changeSession({ $0.metaData = meta }) else { return }
        let result = try await services.sessions.writeBack(key: key, session: stored, baseVersion: current.version,
                                                           apiID: request.api.definition.apiID)
        if case .written(let version) = result { request.sessionWritten(version: version) }
    }
}
