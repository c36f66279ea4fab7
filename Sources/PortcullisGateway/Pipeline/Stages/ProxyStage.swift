import NIOCore
import NIOHTTP1

/// Hands the request to the upstream at the API's `target_url`: builds the
/// outgoing request (listen path stripped when asked, hop-by-hop headers
/// dropped, the client added to `X-Forwarded-For`) and leaves sending it to
/// the data plane's connection pool. 502 when the target cannot be used.
struct ProxyStage: PipelineStage {
    let api: LoadedAPI
    let services: GatewayServices
    /// The parsed `target_url`; nil when the API has none or it is unusable.
    let target: UpstreamTarget?
    var name: String { "proxy" }

    init(api: LoadedAPI, services: GatewayServices) {
        self.api = api
        self.services = services
        self.target = UpstreamTarget(url: api.definition.targetURL)
    }

    func runInline(_ request: inout GatewayRequest) throws -> StageOutcome? {
        guard let target else {
            if api.definition.targetURL.isEmpty { throw GatewayError.noAPI(path: request.path) }
            throw GatewayError.upstreamUnreachable("the target_url '\(api.definition.targetURL)' is not an http(s) URL")
        }
        let forwardedPath = api.definition.stripListenPath
            ? Self.relativePath(request.path, listenPath: api.definition.listenPath) : request.path
        var uri = target.basePath + (forwardedPath.utf8.first == UInt8(ascii: "/") ? forwardedPath : "/" + forwardedPath)
        if let query = request.query, !query.isEmpty { uri += "?" + query }
        // The outgoing fields are gathered once, with room for what is
        // added, and become the header list in one step: `HTTPHeaders.add`
        // checks every name again, a few hundred instructions a field. The
        // wire writer leaves out any name that is not a token.
        var fields: [(String, String)] = []
        fields.reserveCapacity(request.headers.storage.count + 3)
        var priorForwardedFor: String?
        for (name, value) in request.headers.storage {
            if UpstreamHeaders.isHopByHopRequest(name) { continue }
            if request.remoteAddress != nil, HeaderList.equalsASCIICaseInsensitive(name, "x-forwarded-for") {
                if priorForwardedFor == nil { priorForwardedFor = value }
                continue
            }
            fields.append((name, value))
        }
        if let remote = request.remoteAddress {
            fields.append(("X-Forwarded-For", priorForwardedFor.map { "\($0), \(remote)" } ?? remote))
        }
        if let trace = request.trace {
            // The upstream joins the trace under the proxy span.
            for (name, value) in trace.propagationHeaders {
                fields.removeAll { HeaderList.equalsASCIICaseInsensitive($0.0, name) }
                fields.append((name, value))
            }
        }
        fields.append(("Host", target.hostHeader))
        let method = HTTPMethod(rawValue: request.method)
        let bodyBytes = request.bodyBuffer.readableBytes
        if bodyBytes > 0 || !UpstreamHeaders.allowsEmptyBody(method) {
            fields.append(("Content-Length", String(bodyBytes)))
        }
        let headers = HTTPHeaders(fields)
        return .forward(UpstreamRequest(target: target, method: method, uri: uri, headers: headers,
                                        body: request.bodyBuffer))
    }

    func run(_ request: inout GatewayRequest) async throws -> StageOutcome {
        try runInline(&request) ?? .next
    }

    /// The path below the listen path, always starting with `/`.
    /// Compared byte for byte, as Go's `strings.HasPrefix` compares: a path
    /// is bytes, not text to normalise.
    static func relativePath(_ path: String, listenPath: String) -> String {
        guard listenPath != "/" else { return path }
        let bare = listenPath.utf8.dropLast()
        guard path.utf8.starts(with: bare) else { return path }
        let rest = Substring(path.utf8.dropFirst(bare.count))
        return rest.utf8.first == UInt8(ascii: "/") ? String(rest) : "/" + rest
    }
}
