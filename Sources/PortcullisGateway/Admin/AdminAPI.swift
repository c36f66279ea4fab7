import Crypto
import Foundation
import PortcullisCore
import PortcullisSessions

/// Tyk's gateway REST API, guarded by `secret` in `x-tyk-authorization`:
/// `/tyk/keys` (create, read, update, delete; bulk revocation by org or
/// alias), `/tyk/policies` (read), `/tyk/reload`; plus the
/// unguarded `/hello` health check and `/metrics`.
struct AdminAPI {
    let gateway: Gateway
    private var services: GatewayServices { gateway.services }

    /// Answers admin paths; nil for anything else.
    /// `/tyk` and everything below it: the admin API proper.
    static func isAdminPath(_ path: String) -> Bool {
        path == "/tyk" || path.utf8.starts(with: "/tyk/".utf8)
    }

    /// Every path ``handle(method:path:query:headers:body:)`` answers.
    static func claims(_ path: String) -> Bool {
        path == "/hello" || path == "/metrics" || isAdminPath(path)
    }

    func handle(method: String, path: String, query: String?, headers: HeaderList, body: [UInt8]) async -> GatewayResponse? {
        if path == "/hello" {
            return .json(JSONText.any(["status": "pass", "description": "Portcullis gateway", "apis": gateway.loadedAPIs.count]))
        }
        if path == "/metrics" {
            services.runtimeMetrics.sample()
            guard let text = services.metrics.render() else {
                return Self.failure(404, "this node records its metrics on the embedding program's swift-metrics backend; /metrics serves only a Prometheus registry")
            }
            return GatewayResponse(status: 200, headers: HeaderList([("Content-Type", "text/plain; version=0.0.4")]), body: Array(text.utf8))
        }
        guard Self.isAdminPath(path) else { return nil }
        guard Self.authorised(headers.first("x-tyk-authorization"), secret: services.config.secret) else {
            services.logger.warning("Attempted administrative access with invalid or missing key", metadata: ["path": .string(path)])
            return Self.failure(403, "Attempted administrative access with invalid or missing key!")
        }
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let parameters = RequestFixture.queryParameters(of: "/?" + (query ?? ""))
        let suppressReset = parameters["suppress_reset"]?.first == "1"
        do {
            switch (method, Array(segments.dropFirst())) {
            case ("GET", ["reload"]), ("POST", ["reload"]), ("GET", ["reload", "group"]), ("POST", ["reload", "group"]):
                let refused = await gateway.reload()
                return .json(JSONText.any(["status": "ok", "message": "", "refused": refused]))
            case ("POST", ["keys"]), ("POST", ["keys", "create"]):
                return try await create(key: Self.generateKey(), body: body)
            case ("DELETE", ["keys"]):
                return try await revokeAll(orgID: parameters["org_id"]?.first, alias: parameters["alias"]?.first)
            case ("GET", ["keys"]):
                return Self.failure(400, "listing keys is not supported; read one key with GET /tyk/keys/{key}")
            case ("GET", let rest) where rest.count == 2 && rest[0] == "keys":
                return try await read(Self.decode(rest[1]), apiID: parameters["api_id"]?.first)
            case ("GET", ["policies"]):
                let current = services.policies.current
                return .json(JSONValue.array(current.sortedIDs.compactMap { current[$0]?.json }).jsonString())
            case ("GET", let rest) where rest.count == 2 && rest[0] == "policies":
                guard let policy = services.policies.current[Self.decode(rest[1])] else { return Self.failure(404, "Policy not found") }
                return .json(policy.json.jsonString())
            case ("POST", let rest) where rest.count == 2 && rest[0] == "keys":
                return try await create(key: Self.decode(rest[1]), body: body)
            case ("PUT", let rest) where rest.count == 2 && rest[0] == "keys":
                return try await update(key: Self.decode(rest[1]), body: body, suppressReset: suppressReset)
            case ("DELETE", let rest) where rest.count == 2 && rest[0] == "keys":
                return try await delete(Self.decode(rest[1]))
            default:
                return Self.failure(404, "no admin endpoint \(method) \(path)")
            }
        } catch let error as SessionDecodingError {
            return Self.failure(400, "the session is not valid: \(error)")
        } catch let error as SessionError {
            switch error {
            case .storeFailed, .invalidationNotAcknowledged: return Self.failure(503, error.description)
            default: return Self.failure(400, error.description)
            }
        } catch {
            return Self.failure(500, "\(error)")
        }
    }

    private func create(key: String, body: [UInt8]) async throws -> GatewayResponse {
        guard !key.isEmpty else { return Self.failure(400, "the key must not be empty") }
        let session = try SessionState(jsonText: String(decoding: body, as: UTF8.self))
        try await services.sessions.addOrUpdate(key: key, session: session, suppressReset: false)
        services.race?.forget(key: key)
        return .json(JSONText.any(["key": key, "status": "ok", "action": "added",
                                   "key_hash": services.sessions.storageKey(for: key)]))
    }

    private func update(key: String, body: [UInt8], suppressReset: Bool) async throws -> GatewayResponse {
        guard try await services.sessions.keyData(key: key) != nil else { return Self.failure(404, "Key not found") }
        let session = try SessionState(jsonText: String(decoding: body, as: UTF8.self))
        try await services.sessions.addOrUpdate(key: key, session: session, suppressReset: suppressReset)
        services.race?.forget(key: key)
        return .json(JSONText.any(["key": key, "status": "ok", "action": "modified"]))
    }

    /// The session with its policies applied, as Tyk shows it; `api_id`
    /// names the API whose organisation the policies must belong to.
    private func read(_ key: String, apiID: String?) async throws -> GatewayResponse {
        guard let found = try await services.sessions.keyData(key: key) else { return Self.failure(404, "Key not found") }
        let orgID = apiID.flatMap { id in gateway.loadedAPIs.first { $0.apiID == id }?.orgID }
        let (session, refusal) = services.policies.current.shown(found.session, apiOrgID: orgID)
        if let refusal {
            services.logger.warning("GET /tyk/keys shows the session without its policies: \(refusal)",
                                    metadata: ["key": .string(services.displayKey(key))])
        }
        return .json(session.jsonText())
    }

    private func delete(_ key: String) async throws -> GatewayResponse {
        services.race?.forget(key: key)
        guard try await services.sessions.delete(key: key) else { return Self.failure(404, "Key not found") }
        return .json(JSONText.any(["key": key, "status": "ok", "action": "deleted"]))
    }

    /// `DELETE /tyk/keys?org_id=ORG` or `?alias=ALIAS` (or both, which
    /// must both match): revokes every matching key on every node.
    private func revokeAll(orgID: String?, alias: String?) async throws -> GatewayResponse {
        let org = orgID ?? ""
        let name = alias ?? ""
        guard !org.isEmpty || !name.isEmpty else {
            return Self.failure(400, "bulk revocation needs org_id or alias: DELETE /tyk/keys?org_id=ORG or DELETE /tyk/keys?alias=ALIAS")
        }
        let revoked = try await services.sessions.revokeAll { session in
            (org.isEmpty || session.orgID == org) && (name.isEmpty || session.alias == name)
        }
        services.logger.info("bulk revocation", metadata: ["org_id": .string(org), "alias": .string(name), "revoked": .stringConvertible(revoked)])
        return .json(JSONText.any(["status": "ok", "action": "revoked", "revoked": revoked]))
    }

    static func failure(_ status: Int, _ message: String) -> GatewayResponse {
        .json(status: status, JSONText.any(["status": "error", "message": message]))
    }

    /// Compares the presented secret in constant time; an empty secret disables the admin API.
    static func authorised(_ presented: String?, secret: String) -> Bool {
        guard !secret.isEmpty, let presented else { return false }
        let a = Array(SHA256.hash(data: Data(presented.utf8)))
        let b = Array(SHA256.hash(data: Data(secret.utf8)))
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// A new random key: 32 lowercase hex characters.
    static func generateKey() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    static func decode(_ segment: String) -> String {
        segment.removingPercentEncoding ?? segment
    }
}
