import PortcullisCore
import PortcullisJS
import PortcullisSessions

/// Finds who is calling: the JS `auth_check` hook when the API enables
/// custom auth, a JWT's identity claim when it enables JWT (creating the
/// subject's session from its policy when the API names default
/// policies, see ``JWTSessions``), otherwise the
/// key in the API's auth header. The session is
/// read overlay → cache → store, so a key a pre hook just renewed is found
/// renewed. Expired or inactive sessions are left for the key-expiry stage.
struct AuthStage: PipelineStage {
    let api: LoadedAPI
    let services: GatewayServices
    var name: String { "auth" }

    init(api: LoadedAPI, services: GatewayServices) {
        self.api = api
        self.services = services
    }

    /// Token auth whose session this node's coherent cache (or the
    /// request's overlay) holds and accepts decides at once; everything
    /// else — custom auth, JWT, a miss, a rejection to confirm — waits.
    func runInline(_ request: inout GatewayRequest) throws -> StageOutcome? {
        // A `tyk://self` loop keeps the session its first pass authenticated.
        if request.loop.selfLooping, request.key != nil, request.session != nil { return .next }
        guard services.race == nil, api.jwt == nil, !usesCustomAuth else { return nil }
        let presented = try presentedToken(request)
        guard presented.count >= services.config.minTokenLength else { throw GatewayError.accessDisallowed }
        guard let found = services.sessions.acceptedWithoutStore(key: presented, overlay: request.overlay) else { return nil }
        request.key = presented
        try request.adopt(found, services: services)
        return .next
    }

    func run(_ request: inout GatewayRequest) async throws -> StageOutcome {
        if usesCustomAuth, let hook = api.definition.middleware.authCheck {
            return try await customAuth(hook, &request)
        }
        var presented = try presentedToken(request)
        var identity: JWTIdentity?
        if let jwt = api.jwt {
            // The token's own lifetime first; the session's is the key-expiry stage's.
            switch await jwt.verify(presented, now: services.clock.unixSeconds()) {
            case .success(let verified):
                presented = verified.subject
                identity = verified
            case .failure(let rejection): throw GatewayError.jwtRejected(rejection)
            }
        }
        guard presented.count >= services.config.minTokenLength else { throw GatewayError.accessDisallowed }
        request.key = presented
        if let identity, let settings = api.definition.jwt, settings.createsSessions {
            let found = try await JWTSessions(api: api, services: services).session(for: identity, settings: settings, overlay: request.overlay)
            try request.adopt(found, services: services)
            return .next
        }
        let lookup = if let race = services.race {
            try await race.sessionForAuth(key: presented, sessions: services.sessions)
        } else {
            try await services.sessions.sessionForAuth(key: presented, overlay: request.overlay)
        }
        switch lookup {
        case .valid(let found, _), .expired(let found), .inactive(let found):
            try request.adopt(found, services: services)
        case .notFound:
            throw GatewayError.accessDisallowed
        }
        return .next
    }

    /// The value without leading or trailing spaces and tabs (what
    /// `CharacterSet.whitespaces` trims in a header value).
    static func trimmingSpaces(_ value: Substring) -> String {
        let utf8 = value.utf8
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        guard let first = utf8.firstIndex(where: { !isSpace($0) }), let last = utf8.lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        if first == utf8.startIndex && last == utf8.index(before: utf8.endIndex) { return String(value) }
        return String(value[first...last])
    }

    private var usesCustomAuth: Bool {
        guard api.definition.customAuthEnabled, let hook = api.definition.middleware.authCheck else { return false }
        return !hook.disabled
    }

    /// The credential in the API's auth header, without a `Bearer ` prefix.
    private func presentedToken(_ request: GatewayRequest) throws -> String {
        guard let header = request.headers.first(api.definition.authHeaderName), !header.isEmpty else {
            throw GatewayError.authorizationMissing
        }
        var presented = Substring(header)
        if presented.utf8.count > 7, HeaderList.equalsASCIICaseInsensitive(String(presented.prefix(7)), "bearer ") {
            presented = presented.dropFirst(7)
        }
        let token = Self.trimmingSpaces(presented)
        guard !token.isEmpty else { throw GatewayError.authorizationMissing }
        return token
    }

    private func customAuth(_ hook: MiddlewareEntry, _ request: inout GatewayRequest) async throws -> StageOutcome {
        let (mini, encoding) = request.miniRequest()
        let outcome = try await services.timedPlugin(request, plugin: hook.name) { [request] span in
            try await services.engine.runMiddleware(realm: api.realm, handler: hook.name, request: mini,
                                                    sessionJSON: "{}", spec: api.spec, host: services.pluginHost(for: request, span: span))
        }
        if let response = try HookResults.apply(outcome.request, to: &request, bodyEncoding: encoding, services: services) {
            return .respond(response)
        }
        guard let returned = outcome.session else {
            throw GatewayError.pluginFailed("auth hook \(hook.name) returned no session; return \(hook.name).ReturnAuthData(request, session)")
        }
        let session: SessionState
        do {
            session = try SessionState(json: returned)
        } catch {
            throw GatewayError.pluginFailed("auth hook \(hook.name) returned an invalid session: \(error)")
        }
        let key = outcome.authValue ?? ""
        request.key = key.isEmpty ? nil : key
        if key.isEmpty {
            try request.adopt(VersionedSession(session: session, version: 0), services: services)
        } else {
            try request.adopt(try await services.sessions.addOrUpdate(key: key, session: session, suppressReset: true,
                                                                      overlay: request.overlay), services: services)
        }
        return .next
    }
}
