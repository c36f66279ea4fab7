import PortcullisJS
import PortcullisSessions

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

    func getKeyData(key: String, apiID: String) async throws -> String {
        try await sessions.keyDataJSON(key: key)
    }

    func setKeyData(key: String, sessionJSON: String, suppressReset: Bool) async throws {
        if let race {
            try race.deferWrite(requestID: requestID, key: key, json: sessionJSON, suppressReset: suppressReset)
            metrics.recordPluginWrite()
            return
        }
        try await sessions.writeFromPlugin(key: key, json: sessionJSON, suppressReset: suppressReset, overlay: overlay)
        metrics.recordPluginWrite()
    }

    func send(_ request: PluginHTTPRequest) async throws -> PluginHTTPResponse {
        try await transport.send(request)
    }

    var storage: (any PluginStorage)? { kv }
}

extension PluginKeyValueStore: PluginStorage {}

extension GatewayServices {
    /// The plugin host for one request.
    func pluginHost(for request: GatewayRequest) -> GatewayPluginHost {
        GatewayPluginHost(sessions: sessions, overlay: request.overlay, transport: transport, kv: pluginStorage, metrics: metrics,
                          requestID: request.id, race: race)
    }
}
