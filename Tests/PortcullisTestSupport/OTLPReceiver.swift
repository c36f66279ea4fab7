import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A span as an OTLP/HTTP exporter sent it, decoded from the protobuf body.
public struct ReceivedSpan: Sendable, CustomStringConvertible {
    /// Trace id, span id and parent span id as lower-case hex ("" for no parent).
    public var traceID: String
    public var spanID: String
    public var parentSpanID: String
    public var name: String
    /// OTLP's SpanKind: 1 internal, 2 server, 3 client.
    public var kind: Int
    /// String, integer and boolean attributes, as text.
    public var attributes: [String: String]
    /// OTLP's status code: 0 unset, 1 ok, 2 error.
    public var statusCode: Int
    /// The resource's `service.name`.
    public var serviceName: String

    public var description: String {
        "\(name) [\(spanID) ← \(parentSpanID.isEmpty ? "-" : parentSpanID)] kind=\(kind) \(attributes.sorted { $0.key < $1.key })"
    }
}

/// An OTLP/HTTP trace receiver on 127.0.0.1: accepts `POST /v1/traces`
/// with protobuf bodies, as a collector does, and keeps every span.
public final class OTLPReceiver: Sendable {
    /// The bound port.
    public let port: Int
    private let channel: any Channel
    private let received: SpanLog

    /// Starts on a free port.
    public static func start() async throws -> OTLPReceiver {
        let log = SpanLog()
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap { channel.pipeline.addHandler(OTLPHandler(log: log)) }
            }
        let channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        guard let port = channel.localAddress?.port else { throw CancellationError() }
        return OTLPReceiver(port: port, channel: channel, received: log)
    }

    private init(port: Int, channel: any Channel, received: SpanLog) {
        self.port = port
        self.channel = channel
        self.received = received
    }

    /// Every span received so far.
    public var spans: [ReceivedSpan] { received.spans }

    /// Export requests received so far, and the content types they came with.
    public var contentTypes: [String] { received.contentTypes }

    /// Waits until `condition` holds for the spans received, at most `seconds`.
    public func waitFor(seconds: Double = 10, _ condition: ([ReceivedSpan]) -> Bool) async -> [ReceivedSpan] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let now = spans
            if condition(now) { return now }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return spans
    }

    /// Closes the listening socket.
    public func stop() async {
        try? await channel.close()
    }
}

private final class SpanLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [ReceivedSpan] = []
    private var types: [String] = []
    var spans: [ReceivedSpan] { lock.withLock { stored } }
    var contentTypes: [String] { lock.withLock { types } }
    func add(_ spans: [ReceivedSpan], contentType: String) {
        lock.withLock {
            stored += spans
            types.append(contentType)
        }
    }
}

private final class OTLPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    private let log: SpanLog
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(log: SpanLog) { self.log = log }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            var status = HTTPResponseStatus.ok
            if head.method == .POST, head.uri == "/v1/traces", let spans = OTLPTraceDecoder.spans(body) {
                log.add(spans, contentType: head.headers.first(name: "content-type") ?? "")
            } else {
                status = .badRequest
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/x-protobuf")
            headers.add(name: "Content-Length", value: "0")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}

/// Reads `ExportTraceServiceRequest` protobuf: just the fields a test
/// asserts on, by their field numbers in the OTLP schema.
enum OTLPTraceDecoder {
    enum Field {
        case varint(UInt64)
        case fixed64(UInt64)
        case bytes([UInt8])
        case fixed32(UInt32)
    }

    /// The message's fields in order; nil when it is not valid protobuf.
    static func fields(_ bytes: [UInt8]) -> [(Int, Field)]? {
        var index = 0
        var out: [(Int, Field)] = []
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while index < bytes.count, shift < 64 {
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
        while index < bytes.count {
            guard let tag = varint() else { return nil }
            let number = Int(tag >> 3)
            switch tag & 7 {
            case 0:
                guard let value = varint() else { return nil }
                out.append((number, .varint(value)))
            case 1:
                guard index + 8 <= bytes.count else { return nil }
                let value = bytes[index..<index + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                index += 8
                out.append((number, .fixed64(value)))
            case 2:
                guard let length = varint(), index + Int(length) <= bytes.count else { return nil }
                out.append((number, .bytes(Array(bytes[index..<index + Int(length)]))))
                index += Int(length)
            case 5:
                guard index + 4 <= bytes.count else { return nil }
                let value = bytes[index..<index + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                index += 4
                out.append((number, .fixed32(value)))
            default:
                return nil
            }
        }
        return out
    }

    static func messages(_ fields: [(Int, Field)], _ number: Int) -> [[UInt8]] {
        fields.compactMap { field in
            guard field.0 == number, case .bytes(let bytes) = field.1 else { return nil }
            return bytes
        }
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// `KeyValue` list → key: value as text.
    static func attributes(_ fields: [(Int, Field)], _ number: Int) -> [String: String] {
        var result: [String: String] = [:]
        for pair in messages(fields, number) {
            guard let kv = Self.fields(pair), let key = messages(kv, 1).first,
                  let any = messages(kv, 2).first, let value = Self.fields(any)?.first else { continue }
            switch value {
            case (1, .bytes(let text)): result[String(decoding: key, as: UTF8.self)] = String(decoding: text, as: UTF8.self)
            case (2, .varint(let flag)): result[String(decoding: key, as: UTF8.self)] = flag != 0 ? "true" : "false"
            case (3, .varint(let number)): result[String(decoding: key, as: UTF8.self)] = String(Int64(bitPattern: number))
            case (4, .fixed64(let bits)): result[String(decoding: key, as: UTF8.self)] = String(Double(bitPattern: bits))
            default: continue
            }
        }
        return result
    }

    /// Every span in the request: resource_spans(1) → resource(1) and
    /// scope_spans(2) → spans(2).
    static func spans(_ body: [UInt8]) -> [ReceivedSpan]? {
        guard let request = fields(body) else { return nil }
        var spans: [ReceivedSpan] = []
        for resourceSpans in messages(request, 1) {
            guard let resourceFields = fields(resourceSpans) else { return nil }
            let resource = messages(resourceFields, 1).first.flatMap(fields) ?? []
            let service = attributes(resource, 1)["service.name"] ?? ""
            for scope in messages(resourceFields, 2) {
                guard let scopeFields = fields(scope) else { return nil }
                for span in messages(scopeFields, 2) {
                    guard let f = fields(span) else { return nil }
                    var kind = 0
                    for case (6, .varint(let value)) in f { kind = Int(value) }
                    var code = 0
                    if let status = messages(f, 15).first.flatMap(fields) {
                        for case (3, .varint(let value)) in status { code = Int(value) }
                    }
                    spans.append(ReceivedSpan(
                        traceID: hex(messages(f, 1).first ?? []), spanID: hex(messages(f, 2).first ?? []),
                        parentSpanID: hex(messages(f, 4).first ?? []),
                        name: String(decoding: messages(f, 5).first ?? [], as: UTF8.self), kind: kind,
                        attributes: attributes(f, 9), statusCode: code, serviceName: service))
                }
            }
        }
        return spans
    }
}
