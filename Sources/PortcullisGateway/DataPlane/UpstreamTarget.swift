import NIOCore
import NIOHTTP1
import PortcullisCore

/// An API's `target_url`, parsed once when the API loads instead of on
/// every request: where the upstream is, and the path every forwarded
/// request is put under.
public struct UpstreamTarget: Sendable, Hashable {
    /// `true` for `https://` targets.
    public let usesTLS: Bool
    /// Host name or address, without brackets for IPv6.
    public let host: String
    /// TCP port (80 or 443 when the URL names none).
    public let port: Int
    /// The URL's path without a trailing `/` (empty for the root).
    public let basePath: String

    /// Parses an absolute `http://` or `https://` URL; nil for anything else.
    public init?(url: String) {
        let scheme: Bool
        var rest: Substring
        if url.hasPrefix("http://") {
            scheme = false
            rest = url.dropFirst(7)
        } else if url.hasPrefix("https://") {
            scheme = true
            rest = url.dropFirst(8)
        } else {
            return nil
        }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        rest = rest[authorityEnd...]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var host: Substring
        var port: Int?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let number = Int(after.dropFirst()) else { return nil }
                port = number
            } else if !after.isEmpty {
                return nil
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let number = Int(authority[authority.index(after: colon)...]) else { return nil }
            port = number
        } else {
            host = authority
        }
        guard !host.isEmpty, (port ?? 1) > 0, (port ?? 1) < 65536 else { return nil }
        let pathEnd = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? rest.endIndex
        var path = rest[..<pathEnd]
        while path.hasSuffix("/") { path = path.dropLast() }
        self.usesTLS = scheme
        self.host = String(host)
        self.port = port ?? (scheme ? 443 : 80)
        self.basePath = String(path)
        let name = self.host.contains(":") ? "[\(self.host)]" : self.host
        self.hostHeader = self.port == (scheme ? 443 : 80) ? name : "\(name):\(self.port)"
    }

    /// The `Host` header value the upstream expects (the port only when it
    /// is not the scheme's default).
    public let hostHeader: String

    /// `scheme://host:port`, for error messages.
    public var origin: String {
        "\(usesTLS ? "https" : "http")://\(hostHeader)"
    }
}

/// One request the gateway forwards to an upstream.
public struct UpstreamRequest: Sendable {
    /// The stored fields; the accessors below say what each one is.
    private struct Fields: Sendable {
        var target: UpstreamTarget
        var method: HTTPMethod
        var uri: String
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    /// The fields, shared by this request's copies until one of them changes:
    /// the pool keeps each request for a retry while it is sent.
    private var storage: CopyOnWrite<Fields>

    /// Where it goes.
    public var target: UpstreamTarget {
        get { storage.value.target }
        _modify { yield &storage.value.target }
    }
    /// HTTP method.
    public var method: HTTPMethod {
        get { storage.value.method }
        _modify { yield &storage.value.method }
    }
    /// Path and query as sent on the request line.
    public var uri: String {
        get { storage.value.uri }
        _modify { yield &storage.value.uri }
    }
    /// Headers exactly as sent: hop-by-hop ones already removed, `Host`
    /// and (for a body) `Content-Length` already set.
    public var headers: HTTPHeaders {
        get { storage.value.headers }
        _modify { yield &storage.value.headers }
    }
    /// Body bytes (empty for none).
    public var body: ByteBuffer {
        get { storage.value.body }
        _modify { yield &storage.value.body }
    }

    /// Creates a request.
    public init(target: UpstreamTarget, method: HTTPMethod, uri: String, headers: HTTPHeaders, body: ByteBuffer) {
        storage = CopyOnWrite(Fields(target: target, method: method, uri: uri, headers: headers, body: body))
    }

    /// `METHOD scheme://host/uri`, for error messages and logs.
    public var summary: String {
        "\(method.rawValue) \(target.origin)\(uri)"
    }
}

/// The upstream's whole answer.
public struct UpstreamAnswer: Sendable {
    /// Status code.
    public var status: Int
    /// Headers as received, hop-by-hop ones removed.
    public var headers: HTTPHeaders
    /// Body bytes.
    public var body: ByteBuffer
}
