import Foundation
import Logging
import PortcullisCore
import PortcullisJS
import PortcullisSessions
import Tracing

/// The bindings of one request's plugins, on the real session layer.
///
/// `TykSetKeyData` returns to JS only after the store acknowledged the
/// write, every node dropped its cached copy, and the write is recorded in
/// this request's overlay — so the auth and key-expiry stages that follow
/// see the renewed session.
struct GatewayPluginHost: PluginHost {
    let sessions: SessionManager
    let overlay: SessionOverlay
    let transport: HTTPClientTransport
    let kv: PluginKeyValueStore
    let metrics: GatewayMetrics
    let requestID: String
    let race: TykRaceEmulation?
    /// The API whose plugin is running.
    let apiID: String
    let keyScope: PluginKeyScope
    let httpPolicy: PluginHTTPPolicy
    let logger: Logger
    let faults: BindingFaults
    /// The policies sessions are shown with.
    let policies: PolicyRegistry
    /// The organisation of the plugin's API, when it is loaded.
    let apiOrgID: String?
    /// The tracer and the plugin call's span context when the request is
    /// traced: store calls become its children, HTTP calls carry it.
    var tracing: (any RequestTracing)? = nil
    var traceContext: InstrumentationContext? = nil
    /// The request's trace id, for plugin log lines.
    var traceID: String? = nil

    /// The request and API every plugin log line is tagged with.
    var logMetadata: Logger.Metadata {
        guard let traceID, !traceID.isEmpty else { return ["request_id": .string(requestID), "api_id": .string(apiID)] }
        return ["request_id": .string(requestID), "api_id": .string(apiID), "trace_id": .string(traceID)]
    }

    /// Runs a session call, noting store failures for the error mapping.
    private func noting<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            guard let traceContext else { return try await body() }
            return try await InstrumentationContext.$current.withValue(traceContext) { try await body() }
        } catch let error as SessionError {
            switch error {
            case .storeFailed, .invalidationNotAcknowledged: faults.recordStoreFailure(error.description)
            default: break
            }
            throw error
        }
    }

    /// Notes store failures of a call that does not wait.
    private func notingNow<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SessionError {
            switch error {
            case .storeFailed, .invalidationNotAcknowledged: faults.recordStoreFailure(error.description)
            default: break
            }
            throw error
        }
    }

    static let notFound = #"{"status":"error","message":"Key not found"}"#

    /// The same answer as ``getKeyData(key:apiID:)`` when the store reads
    /// in-process; nil when it has to wait (Redis).
    func getKeyDataImmediately(key: String, apiID: String) throws -> String? {
        // Tyk's race is emulated with its reads from the store.
        guard race == nil else { return nil }
        guard case .ready(let found) = try notingNow({ try sessions.renderedKeyDataImmediately(key: key) }) else { return nil }
        guard let found else { return Self.notFound }
        let view = shown(found, key: key)
        guard keyScope == .grantedAPIs, !grantsThisAPI(view.session) else { return view.json }
        logger.warning("TykGetKeyData refused: the key does not grant this plugin's API",
                       metadata: ["api_id": .string(self.apiID), "key": .string(KeyMask.mask(key))])
        return Self.notFound
    }

    /// The session as Tyk's `TykGetKeyData` shows it: with its policies
    /// applied. A session whose policies cannot be applied is shown as
    /// stored, and the reason logged.
    private func shown(_ found: RenderedSession, key: String) -> (session: SessionState, json: String) {
        guard !found.found.session.policyIDs.isEmpty else { return (found.found.session, found.json) }
        let (session, refusal) = policies.current.shown(found.found.session, apiOrgID: apiOrgID)
        guard let refusal else { return (session, session.jsonText()) }
        logger.warning("TykGetKeyData shows the session without its policies: \(refusal)",
                       metadata: ["api_id": .string(apiID), "key": .string(KeyMask.mask(key))])
        return (session, found.json)
    }

    /// Under ``PluginKeyScope/grantedAPIs`` a session that grants other
    /// APIs but not this one is answered as missing, as if it did not exist.
    func getKeyData(key: String, apiID: String) async throws -> String {
        guard let found = try await stored(key) else { return Self.notFound }
        let view = shown(found, key: key)
        guard keyScope == .grantedAPIs else { return view.json }
        guard grantsThisAPI(view.session) else {
            logger.warning("TykGetKeyData refused: the key does not grant this plugin's API",
                           metadata: ["api_id": .string(self.apiID), "key": .string(KeyMask.mask(key))])
            return Self.notFound
        }
        return view.json
    }

    /// The session a plugin sees for `key`: from the coherent cache when it
    /// holds it, else the store; always the store while Tyk's race is
    /// emulated, as Tyk reads it.
    private func stored(_ key: String) async throws -> RenderedSession? {
        let emulatingRace = race != nil
        return try await noting { () async throws -> RenderedSession? in
            emulatingRace ? try await sessions.renderedKeyData(key: key) : try await sessions.pluginKeyData(key: key)
        }
    }

    private func grantsThisAPI(_ session: SessionState) -> Bool {
        session.accessRights.isEmpty || session.accessRights[apiID] != nil
    }

    /// Under ``PluginKeyScope/grantedAPIs`` a plugin may not overwrite a
    /// session that grants other APIs but not its own.
    func setKeyData(key: String, sessionJSON: String, suppressReset: Bool) async throws {
        if keyScope == .grantedAPIs, let existing = try await stored(key), !grantsThisAPI(shown(existing, key: key).session) {
            throw PluginKeyScopeRefusal(key: KeyMask.mask(key), apiID: apiID)
        }
        if let race {
            try race.deferWrite(requestID: requestID, key: key, json: sessionJSON, suppressReset: suppressReset)
            metrics.recordPluginWrite()
            return
        }
        _ = try await noting { try await sessions.writeFromPlugin(key: key, json: sessionJSON, suppressReset: suppressReset, overlay: overlay) }
        metrics.recordPluginWrite()
    }

    /// The write of ``setKeyData(key:sessionJSON:suppressReset:)`` made on
    /// the worker's own thread when the store allows it. A store that
    /// cannot (Redis over TLS), a traced request, Tyk's emulated race and a
    /// key scope that needs the stored record from the store take the
    /// waiting path, found before anything is decoded or checked twice.
    func setKeyDataImmediately(key: String, sessionJSON: String, suppressReset: Bool) throws -> ImmediateKeyWrite {
        guard race == nil, traceContext == nil, sessions.writesPluginSessionsOnCallingThread else { return .mustWait }
        if keyScope == .grantedAPIs {
            guard case .ready(let existing) = try notingNow({ try sessions.renderedKeyDataImmediately(key: key) }) else { return .mustWait }
            if let existing, !grantsThisAPI(shown(existing, key: key).session) {
                throw PluginKeyScopeRefusal(key: KeyMask.mask(key), apiID: apiID)
            }
        }
        switch try notingNow({ try sessions.writeFromPluginImmediately(key: key, json: sessionJSON, suppressReset: suppressReset, overlay: overlay) }) {
        case .written:
            metrics.recordPluginWrite()
            return .done
        case .confirming(let confirmations):
            return .confirming { [self] in
                _ = try await noting { try await confirmations() }
                metrics.recordPluginWrite()
            }
        case .mustWait:
            return .mustWait
        }
    }

    func send(_ request: PluginHTTPRequest) async throws -> PluginHTTPResponse {
        if let refusal = httpPolicy.refusal(for: request.url) {
            throw PluginHTTPRefused(reason: refusal)
        }
        guard let tracing, let traceContext else { return try await transport.send(request) }
        // The called service joins the trace under the plugin call, unless
        // the plugin set the propagation headers itself.
        var traced = request
        for (name, value) in tracing.headers(for: traceContext)
        where !traced.headers.contains(where: { $0.0.caseInsensitiveCompare(name) == .orderedSame }) {
            traced.headers.append((name, value))
        }
        return try await transport.send(traced)
    }

    var storage: (any PluginStorage)? { kv }
}

extension PluginKeyValueStore: PluginStorage {}

/// `TykSetKeyData` on a session of another API (``PluginKeyScope/grantedAPIs``).
struct PluginKeyScopeRefusal: Error, CustomStringConvertible {
    let key: String
    let apiID: String
    var description: String {
        "TykSetKeyData(\(key)) refused: the stored session does not grant API '\(apiID)', so this API's plugins may not overwrite it "
            + "(set plugin_key_scope to \"any\" for Tyk's behaviour)"
    }
}

/// `TykMakeHttpRequest` to a host the policy refuses.
struct PluginHTTPRefused: Error, CustomStringConvertible {
    let reason: String
    var description: String { "refused by the gateway's plugin HTTP policy: \(reason)" }
}

extension GatewayServices {
    /// The plugin host for one request.
    func pluginHost(for request: GatewayRequest, span: (any Span)? = nil) -> GatewayPluginHost {
        var host = pluginHost(apiID: request.api.definition.apiID, orgID: request.api.definition.orgID, requestID: request.id,
                              overlay: request.overlay, faults: request.bindingFaults)
        if let span, let trace = request.trace {
            host.tracing = trace.tracing
            host.traceContext = span.context
            host.traceID = trace.traceID
        }
        return host
    }

    /// The plugin host for `apiID`'s plugins outside a client request
    /// (tools and scenarios), or inside one with its overlay and faults.
    func pluginHost(apiID: String, orgID: String? = nil, requestID: String = UUID().uuidString, overlay: SessionOverlay = SessionOverlay(),
                    faults: BindingFaults = BindingFaults()) -> GatewayPluginHost {
        GatewayPluginHost(sessions: sessions, overlay: overlay, transport: transport, kv: pluginStorage, metrics: metrics,
                          requestID: requestID, race: race, apiID: apiID, keyScope: config.pluginKeyScope,
                          httpPolicy: config.pluginHTTP, logger: logger, faults: faults,
                          policies: policies, apiOrgID: orgID)
    }
}
