import Foundation
import NIOCore

/// What the gateway sends back: from a stage that answered early, from an
/// error, or from the upstream (possibly changed by response hooks).
public struct GatewayResponse: Sendable {
    /// Status code.
    public var status: Int
    /// Headers in order.
    public var headers: HeaderList
    /// Body bytes as NIO holds them: the upstream's body reaches the
    /// client without a copy.
    public var bodyBuffer: ByteBuffer

    /// Body bytes.
    public var body: [UInt8] {
        get { Array(buffer: bodyBuffer) }
        set { bodyBuffer = ByteBuffer(bytes: newValue) }
    }

    /// Creates a response.
    public init(status: Int, headers: HeaderList = HeaderList(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.bodyBuffer = body.isEmpty ? ByteBuffer() : ByteBuffer(bytes: body)
    }

    /// Creates a response around a body buffer.
    public init(status: Int, headers: HeaderList, bodyBuffer: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.bodyBuffer = bodyBuffer
    }

    /// Tyk's error body, byte for byte as its `error.json` template writes
    /// it (`{\n    "error": "<message>"\n}`, `application/json`), or its
    /// `error.xml` for a request sent as XML (`requestContentType`).
    public static func error(status: Int, message: String, headers: HeaderList = HeaderList(),
                             requestContentType: String? = nil) -> GatewayResponse {
        let format = ErrorBody.Format(requestContentType: requestContentType)
        var headers = headers
        headers.set("Content-Type", format.contentType)
        return GatewayResponse(status: status, headers: headers, body: Array(ErrorBody.render(message, as: format).utf8))
    }

    /// A JSON response.
    public static func json(status: Int = 200, _ text: String) -> GatewayResponse {
        GatewayResponse(status: status, headers: HeaderList([("Content-Type", "application/json")]), body: Array(text.utf8))
    }
}

/// Small JSON writing helpers for fixed-shape bodies.
enum JSONText {
    static func any(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }
}
