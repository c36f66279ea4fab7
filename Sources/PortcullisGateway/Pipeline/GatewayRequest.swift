import Foundation
import NIOCore
import PortcullisCore
import PortcullisJS
import PortcullisSessions

/// One request as it moves through the pipeline: what the client sent,
/// as changed by the stages so far, plus what the stages learned (the
/// key, its session) and the request's own session overlay.
public struct GatewayRequest: Sendable {
    /// The stored fields; the accessors below say what each one is.
    private struct Fields: Sendable {
        let id: String
        var api: LoadedAPI
        var method: String
        var path: String
        var query: String?
        var headers: HeaderList
        var bodyBuffer: ByteBuffer
        var scheme: String
        var remoteAddress: String?
        var key: String?
        var session: VersionedSession?
        var storedSession: SessionState?
        let overlay = SessionOverlay()
        var responseHeaders = HeaderList()
        let bindingFaults = BindingFaults()
        var loop = InternalLoop()
        var trace: RequestTrace?
    }

    /// The fields, shared by this request's copies until one of them changes:
    /// a request is copied into every stage's continuation.
    private var storage: CopyOnWrite<Fields>

    /// Request id for logs.
    public var id: String { storage.value.id }
    /// The API the request was routed to (or looped to, ``InternalLoop``).
    public private(set) var api: LoadedAPI {
        get { storage.value.api }
        _modify { yield &storage.value.api }
    }
    /// HTTP method.
    public var method: String {
        get { storage.value.method }
        _modify { yield &storage.value.method }
    }
    /// Path including the listen path (as Tyk's `request.URL` shows it).
    public var path: String {
        get { storage.value.path }
        _modify { yield &storage.value.path }
    }
    /// Raw query string without `?`, if any.
    public var query: String? {
        get { storage.value.query }
        _modify { yield &storage.value.query }
    }
    /// Headers in order, names as received.
    public var headers: HeaderList {
        get { storage.value.headers }
        _modify { yield &storage.value.headers }
    }
    /// Body bytes as read off the connection.
    public var bodyBuffer: ByteBuffer {
        get { storage.value.bodyBuffer }
        _modify { yield &storage.value.bodyBuffer }
    }
    /// Body bytes.
    public var body: [UInt8] {
        get { Array(buffer: bodyBuffer) }
        set { bodyBuffer = ByteBuffer(bytes: newValue) }
    }
    /// `http` or `https`.
    public var scheme: String {
        get { storage.value.scheme }
        _modify { yield &storage.value.scheme }
    }
    /// The client's address, when known.
    public var remoteAddress: String? {
        get { storage.value.remoteAddress }
        _modify { yield &storage.value.remoteAddress }
    }
    /// The key presented for auth (after the auth stage).
    public var key: String? {
        get { storage.value.key }
        _modify { yield &storage.value.key }
    }
    /// The session accepted by auth, and its record version: with the
    /// policies it names applied (see ``adopt(_:services:)``).
    public var session: VersionedSession? {
        get { storage.value.session }
        _modify { yield &storage.value.session }
    }
    /// The session as stored, when policies changed it for ``session``;
    /// write-backs start from this form, so policy values are never
    /// written into the key.
    public internal(set) var storedSession: SessionState? {
        get { storage.value.storedSession }
        _modify { yield &storage.value.storedSession }
    }
    /// Sessions written by this request's plugins; read first by auth and key expiry.
    public var overlay: SessionOverlay { storage.value.overlay }
    /// Headers to add to the response (set by stages, e.g. rate-limit info).
    public var responseHeaders: HeaderList {
        get { storage.value.responseHeaders }
        _modify { yield &storage.value.responseHeaders }
    }
    /// Store failures the request's plugin bindings ran into, so a plugin
    /// that fails because the store is down answers 503, not 500.
    var bindingFaults: BindingFaults { storage.value.bindingFaults }
    /// Where the request stands in `tyk://` loops.
    public var loop: InternalLoop {
        get { storage.value.loop }
        _modify { yield &storage.value.loop }
    }
    /// The request's spans when tracing is on; nil otherwise.
    public internal(set) var trace: RequestTrace? {
        get { storage.value.trace }
        _modify { yield &storage.value.trace }
    }

    /// Creates a request.
    public init(id: String, api: LoadedAPI, method: String, path: String, query: String?, headers: HeaderList,
                body: [UInt8], scheme: String = "http", remoteAddress: String? = nil) {
        self.init(id: id, api: api, method: method, path: path, query: query, headers: headers,
                  bodyBuffer: body.isEmpty ? ByteBuffer() : ByteBuffer(bytes: body), scheme: scheme, remoteAddress: remoteAddress)
    }

    /// Creates a request around a body buffer.
    public init(id: String, api: LoadedAPI, method: String, path: String, query: String?, headers: HeaderList,
                bodyBuffer: ByteBuffer, scheme: String = "http", remoteAddress: String? = nil) {
        storage = CopyOnWrite(Fields(id: id, api: api, method: method, path: path, query: query, headers: headers,
                                 bodyBuffer: bodyBuffer, scheme: scheme, remoteAddress: remoteAddress))
    }

    /// The same client request sent on to `api` by a `tyk://` loop: same
    /// id, headers, body and overlay; the session only for a loop to the
    /// same API, whose auth then keeps it.
    func looped(to api: LoadedAPI, path: String, query: String?, method: String, keepSession: Bool) -> GatewayRequest {
        var next = self
        next.api = api
        next.path = path
        next.query = query
        next.method = method
        if !keepSession {
            next.key = nil
            next.session = nil
            next.storedSession = nil
        }
        return next
    }

    /// Path and query, as `request.URL` in a plugin.
    public var pathAndQuery: String {
        guard let query, !query.isEmpty else { return path }
        return path + "?" + query
    }

    /// The plugin view of this request (`MiniRequestObject`) and the
    /// encoding its body text uses.
    /// What plugins see as `RemoteAddr`, `Host`, `APIID`, `APIName` and `ListenPath`.
    var attributes: RequestAttributes {
        RequestAttributes(remoteAddress: remoteAddress ?? "", host: headers.first("host") ?? "", apiID: api.definition.apiID,
                          apiName: api.definition.name, listenPath: api.definition.listenPath)
    }

    /// What a request hook is handed: the request object without its
    /// header map (the hook's result never carries one back), the body's
    /// encoding, and the object's JSON text with `Headers` written straight
    /// from the fields — the same text as ``miniRequest()``'s.
    func hookRequest() -> (MiniRequest, ByteText, json: String) {
        let (text, encoding) = ByteText.decode(body)
        var fields: [(name: String, value: String)] = []
        fields.reserveCapacity(headers.storage.count + 1)
        for (name, value) in headers.storage { fields.append((HeaderList.canonical(name), value)) }
        if !fields.contains(where: { $0.name == "Host" }), let host = headers.first("host") { fields.append(("Host", host)) }
        let target = pathAndQuery
        // Made whole at once: setting a field afterwards copied the fields' box.
        let request = MiniRequest(
            body: text, url: target, params: RequestFixture.queryParameters(of: target), method: method,
            requestURI: target, scheme: scheme, attributes: attributes)
        return (request, encoding, request.jsonText(headerFields: fields))
    }

    func miniRequest() -> (MiniRequest, ByteText) {
        let (text, encoding) = ByteText.decode(body)
        var headerMap = headers.grouped()
        if headerMap["Host"] == nil, let host = headers.first("host") { headerMap["Host"] = [host] }
        let target = pathAndQuery
        let request = MiniRequest(
            headers: headerMap, body: text, url: target, params: RequestFixture.queryParameters(of: target),
            method: method, requestURI: target, scheme: scheme, attributes: attributes)
        return (request, encoding)
    }

    /// Applies what a request hook returned, in Tyk's order: body, URL,
    /// DeleteHeaders, SetHeaders (names canonical unless
    /// `keepHeaderSpelling`), query params. A body the hook left as it was
    /// given (`bodyUnchanged`) keeps its bytes without being encoded again.
    mutating func apply(_ changed: MiniRequest, bodyEncoding: ByteText, keepHeaderSpelling: Bool = false,
                        bodyUnchanged: Bool = false) throws {
        if !changed.ignoreBody && !bodyUnchanged { body = bodyEncoding.encode(changed.body) }
        if !changed.url.isEmpty && changed.url != pathAndQuery {
            guard let components = URLComponents(string: changed.url), components.path.hasPrefix("/") else {
                throw GatewayError.pluginFailed("the plugin set request.URL to '\(changed.url)', which is not a path")
            }
            path = components.percentEncodedPath
            query = components.percentEncodedQuery
        }
        for name in changed.deleteHeaders { headers.remove(name) }
        for (name, value) in changed.setHeaders {
            guard HeaderList.isSafe(name: name, value: value) else {
                throw GatewayError.pluginFailed("the plugin set header '\(name)' to a value with a line break or an invalid name")
            }
            headers.set(keepHeaderSpelling ? name : HeaderList.canonical(name), value)
        }
        // Tyk's ReconstructParams: delete, set, then add; the query is
        // rewritten (sorted, as url.Values.Encode writes it) only when the
        // parameters changed.
        if !changed.deleteParams.isEmpty || !changed.addParams.isEmpty || !changed.extendedParams.isEmpty {
            let original = QueryString.parse(query ?? "")
            var updated = original
            for name in changed.deleteParams { updated[name] = nil }
            for (name, value) in changed.addParams { updated[name] = [value] }
            for (name, values) in changed.extendedParams where !values.isEmpty {
                updated[name, default: []].append(contentsOf: values)
            }
            if updated != original {
                let encoded = QueryString.encode(updated)
                query = encoded.isEmpty ? nil : encoded
            }
        }
    }
}

/// What went wrong underneath a request's plugins (shared by the request's
/// tasks; set by the bindings, read when the pipeline maps an error).
final class BindingFaults: Sendable {
    private let storeFailure = Locked<String?>(nil)

    /// Remembers the first store failure.
    func recordStoreFailure(_ description: String) {
        storeFailure.withLock { if $0 == nil { $0 = description } }
    }

    /// The first store failure, if any.
    var firstStoreFailure: String? { storeFailure.value }
}
