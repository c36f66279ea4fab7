import HTTPTypes
import Hummingbird
import NIOCore

/// Hummingbird's view of the gateway: turns each HTTP request into a
/// ``Gateway/handle(method:path:query:headers:body:scheme:remoteAddress:)``
/// call and its ``GatewayResponse`` back into HTTP.
struct GatewayResponder: HTTPResponder {
    typealias Context = GatewayRequestContext

    let gateway: Gateway
    let maxBodyBytes: Int
    let maxHeaderBytes: Int
    /// Whether this listener serves the admin API (`/tyk/…`).
    let servesAdmin: Bool

    func respond(to request: Request, context: Context) async throws -> Response {
        var request = request
        let headerBytes = request.headers.reduce(0) { $0 + $1.name.rawName.utf8.count + $1.value.utf8.count + 4 }
        guard headerBytes <= maxHeaderBytes else {
            return Self.response(GatewayResponse.error(status: 431, message: GatewayError.headersTooLarge(limit: maxHeaderBytes).message))
        }
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxBodyBytes)
        } catch {
            return Self.response(GatewayResponse.error(status: 413, message: GatewayError.bodyTooLarge(limit: maxBodyBytes).message))
        }
        var headers = HeaderList()
        for field in request.headers { headers.add(field.name.rawName, field.value) }
        if headers.first("host") == nil, let authority = request.head.authority { headers.add("Host", authority) }
        let raw = request.uri.path.isEmpty ? "/" : request.uri.path
        guard raw.hasPrefix("/") else {
            return Self.response(GatewayResponse.error(status: 400, message: "the request target must be a path"))
        }
        guard let path = RequestPath.normalised(raw) else {
            return Self.response(GatewayResponse.error(status: 400, message: "the request path climbs above the root"))
        }
        let answer = await gateway.handle(method: request.method.rawValue, path: path, query: request.uri.query,
                                          headers: headers, body: Array(buffer: body), scheme: "http",
                                          remoteAddress: context.remoteAddress, servesAdmin: servesAdmin)
        return Self.response(answer)
    }

    static func response(_ answer: GatewayResponse) -> Response {
        var fields = HTTPFields()
        for field in answer.headers {
            guard let name = HTTPField.Name(field.name), field.name.lowercased() != "content-length" else { continue }
            fields.append(HTTPField(name: name, value: field.value))
        }
        return Response(status: HTTPResponse.Status(code: answer.status), headers: fields,
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}

/// The per-connection facts the gateway needs beyond the request itself.
struct GatewayRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The client's IP address, when the channel knows it.
    let remoteAddress: String?

    init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }
}
