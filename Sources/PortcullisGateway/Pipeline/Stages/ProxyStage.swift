import Foundation

/// Sends the request to the API's `target_url` and answers with what the
/// upstream said (502 when it cannot be reached, 504 when it is too slow).
struct ProxyStage: PipelineStage {
    let api: LoadedAPI
    let services: GatewayServices
    var name: String { "proxy" }

    func run(_ request: inout GatewayRequest) async throws -> StageOutcome {
        guard !api.definition.targetURL.isEmpty else { throw GatewayError.noAPI(path: request.path) }
        let forwardedPath = api.definition.stripListenPath
            ? Self.relativePath(request.path, listenPath: api.definition.listenPath) : request.path
        var url = Self.join(api.definition.targetURL, forwardedPath)
        if let query = request.query, !query.isEmpty { url += "?" + query }
        var headers = request.headers.fields.map { ($0.name, $0.value) }
        if let remote = request.remoteAddress {
            let prior = request.headers.first("x-forwarded-for")
            headers.removeAll { $0.0.lowercased() == "x-forwarded-for" }
            headers.append(("X-Forwarded-For", prior.map { "\($0), \(remote)" } ?? remote))
        }
        let answer = try await services.proxy.forward(.init(method: request.method, url: url, headers: headers, body: request.body))
        return .respond(GatewayResponse(status: answer.status, headers: HeaderList(answer.headers), body: answer.body))
    }

    /// The path below the listen path, always starting with `/`.
    static func relativePath(_ path: String, listenPath: String) -> String {
        guard listenPath != "/" else { return path }
        let bare = String(listenPath.dropLast())
        guard path.hasPrefix(bare) else { return path }
        let rest = String(path.dropFirst(bare.count))
        return rest.hasPrefix("/") ? rest : "/" + rest
    }

    /// `http://up/base` + `/items` → `http://up/base/items`.
    static func join(_ target: String, _ path: String) -> String {
        let base = target.hasSuffix("/") ? String(target.dropLast()) : target
        return base + (path.hasPrefix("/") ? path : "/" + path)
    }
}
