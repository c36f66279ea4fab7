import NIOCore
import NIOHTTP1

/// Sent down a connection's pipeline when the server stops: finish what is
/// in flight, then close.
struct DrainConnection: Sendable {}

/// One client connection of the data plane: reads HTTP/1.1 requests
/// (``ClientRequestReader``, which enforces the header and body limits),
/// hands each request to the gateway and writes the answers back in
/// request order.
///
/// Pipelined requests are read and started without waiting for earlier
/// answers (no read suppression); answers that finish early wait in order.
/// Reading pauses only when `maxInFlight` requests are unanswered.
///
/// Answers are framed here, straight into bytes (``HTTPWireFormat``): the
/// gateway always knows a whole answer's length, so there is nothing for a
/// general response encoder to decide. Malformed HTTP is answered here too:
/// 400 and close.
final class GatewayChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct Limits {
        var maxBodyBytes: Int
        var maxHeaderBytes: Int
        var maxInFlight: Int = 32
        /// A connection with nothing read or written for this long is
        /// closed (unless an answer is still on its way).
        var idleTimeout: TimeAmount = .seconds(120)
    }

    /// Idle checks per idle timeout: the connection closes after this many
    /// checks in a row saw no traffic, between 1 and 1¼ timeouts after its
    /// last byte. One timer per connection, and a flag per read or write,
    /// cost less than an idle-state handler in the pipeline, which takes
    /// the clock and a promise for every write.
    private static let idleChecks: Int64 = 4

    private struct Answered {
        var response: GatewayResponse
        var keepAlive: Bool
        var isHead: Bool
    }

    private let gateway: Gateway
    private let servesAdmin: Bool
    private let limits: Limits
    private let serverName: String
    private var remoteAddress: String?
    private var reader: ClientRequestReader
    private var nextSequence = 0
    private var nextToWrite = 0
    private var ready: [Int: Answered] = [:]
    private var readPending = false
    private var closing = false
    private var draining = false
    private var context: ChannelHandlerContext?
    /// Traffic since the last idle check, and quiet checks in a row.
    private var sawTraffic = false
    private var quietChecks: Int64 = 0
    private var idleTimer: RepeatedTask?

    init(gateway: Gateway, servesAdmin: Bool, limits: Limits, serverName: String, scheme: String = "http") {
        self.gateway = gateway
        self.servesAdmin = servesAdmin
        self.limits = limits
        self.serverName = serverName
        self.scheme = scheme
        reader = ClientRequestReader(maxHeaderBytes: limits.maxHeaderBytes, maxBodyBytes: limits.maxBodyBytes)
    }

    /// `http`, or `https` on a TLS listener.
    private let scheme: String

    private var inFlight: Int { nextSequence - nextToWrite }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        idleTimer = nil
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        remoteAddress = context.channel.remoteAddress?.ipAddress
        let every = TimeAmount.nanoseconds(max(1_000_000, limits.idleTimeout.nanoseconds / Self.idleChecks))
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        idleTimer = context.eventLoop.scheduleRepeatedTask(initialDelay: every, delay: every) { _ in
            handler.value.checkIdle()
        }
        context.fireChannelActive()
    }

    /// Nothing read or written for the idle timeout: a kept-alive
    /// connection with nothing in flight, or a client that stopped half-way
    /// through a request, is closed. One waiting for its upstream is left alone.
    private func checkIdle() {
        if sawTraffic || inFlight > 0 {
            sawTraffic = false
            quietChecks = 0
            return
        }
        quietChecks += 1
        if quietChecks >= Self.idleChecks, let context { close(context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        sawTraffic = true
        guard !closing else { return }
        reader.append(unwrapInboundIn(data))
        do {
            while !closing, let request = try reader.next() { start(request, context: context) }
        } catch {
            refuseMalformed(context)
        }
    }

    func read(context: ChannelHandlerContext) {
        if inFlight >= limits.maxInFlight {
            readPending = true
        } else {
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is DrainConnection {
            draining = true
            if inFlight == 0 && !reader.isReadingRequest { close(context) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close(context)
    }

    /// Bytes that are not HTTP/1.1: a 400 when no answer is owed yet,
    /// otherwise the answers owed and then the close.
    private func refuseMalformed(_ context: ChannelHandlerContext) {
        guard !closing else { return }
        if inFlight == 0 {
            var out = context.channel.allocator.buffer(capacity: Self.badRequest.utf8CodeUnitCount)
            out.writeStaticString(Self.badRequest)
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            close(context)
        } else {
            draining = true
        }
    }

    private static let badRequest: StaticString = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        idleTimer?.cancel()
        idleTimer = nil
        context.fireChannelInactive()
    }

    // MARK: Requests

    private func start(_ request: ReceivedRequest, context: ChannelHandlerContext) {
        let sequence = nextSequence
        nextSequence += 1
        let keepAlive = request.keepAlive && !draining
        let isHead = request.isHead
        if let refusal = request.refusal {
            // The rest of an oversized body is not worth reading.
            deliver(GatewayResponse.error(status: refusal.status, message: refusal.message), sequence: sequence,
                    keepAlive: false, isHead: isHead)
            return
        }
        let (rawPath, query) = Self.split(request.target)
        guard rawPath.hasPrefix("/") else {
            deliver(GatewayResponse.error(status: 400, message: "the request target must be a path"), sequence: sequence,
                    keepAlive: keepAlive, isHead: isHead)
            return
        }
        guard let path = RequestPath.normalised(rawPath) else {
            deliver(GatewayResponse.error(status: 400, message: "the request path climbs above the root"), sequence: sequence,
                    keepAlive: keepAlive, isHead: isHead)
            return
        }
        var incoming = IncomingRequest(method: request.method, path: path, query: query, headers: HeaderList(request.headers),
                                       bodyBuffer: request.body ?? ByteBuffer(), remoteAddress: remoteAddress)
        incoming.scheme = scheme
        gateway.serve(incoming, servesAdmin: servesAdmin, on: context.eventLoop) { [self] response in
            deliver(response, sequence: sequence, keepAlive: keepAlive, isHead: isHead)
        }
    }

    private static func split(_ uri: String) -> (String, String?) {
        guard let mark = uri.utf8.firstIndex(of: UInt8(ascii: "?")) else {
            return (uri.isEmpty ? "/" : uri, nil)
        }
        let path = String(uri[..<mark])
        return (path.isEmpty ? "/" : path, String(uri[uri.index(after: mark)...]))
    }

    // MARK: Responses

    private func deliver(_ response: GatewayResponse, sequence: Int, keepAlive: Bool, isHead: Bool) {
        guard let context, !closing else { return }
        var wrote = false
        var next: Answered? = Answered(response: response, keepAlive: keepAlive, isHead: isHead)
        if sequence != nextToWrite {
            ready[sequence] = next
            next = nil
        }
        while let answered = next ?? ready.removeValue(forKey: nextToWrite) {
            next = nil
            nextToWrite += 1
            wrote = true
            let keepAlive = answered.keepAlive && !draining
            write(answered, keepAlive: keepAlive, context: context)
            if !keepAlive {
                context.flush()
                close(context)
                return
            }
        }
        guard wrote else { return }
        if draining && inFlight == 0 && !reader.isReadingRequest {
            context.flush()
            close(context)
            return
        }
        DeferredFlushes.flush(context.channel)
        if readPending && inFlight < limits.maxInFlight {
            readPending = false
            context.read()
        }
    }

    private func write(_ answered: Answered, keepAlive: Bool, context: ChannelHandlerContext) {
        sawTraffic = true
        let response = answered.response
        var body = response.bodyBuffer
        let allowsBody = HTTPWireFormat.statusAllowsBody(response.status)
        let sendsBody = allowsBody && !answered.isHead && body.readableBytes > 0
        let inlinesBody = sendsBody && body.readableBytes <= HTTPWireFormat.inlineBodyLimit
        var headSize = 64 + serverName.utf8.count
        var hasType = false
        var hasServer = false
        for (name, value) in response.headers.storage {
            headSize += HTTPWireFormat.fieldSize(name, value)
        }
        var out = context.channel.allocator.buffer(capacity: headSize + (inlinesBody ? body.readableBytes : 0))
        HTTPWireFormat.writeStatusLine(response.status, into: &out)
        for (name, value) in response.headers.storage {
            if Self.framingHeaders.contains(where: { HeaderList.equalsASCIICaseInsensitive(name, $0) }) { continue }
            if !hasType && HeaderList.equalsASCIICaseInsensitive(name, "content-type") { hasType = true }
            if !hasServer && HeaderList.equalsASCIICaseInsensitive(name, "server") { hasServer = true }
            HTTPWireFormat.writeField(name, value, into: &out)
        }
        if allowsBody {
            // A HEAD answer states the length the GET would have had: the
            // upstream's when it said one, else the body the gateway made.
            let length = answered.isHead ? (Self.declaredLength(response.headers) ?? body.readableBytes) : body.readableBytes
            HTTPWireFormat.writeContentLength(length, into: &out)
            // A body without a type gets the one Tyk's Go server would sniff.
            if body.readableBytes > 0 && !answered.isHead && !hasType {
                HTTPWireFormat.writeField("Content-Type", ContentSniffer.detect(body), into: &out)
            }
        }
        if !keepAlive { out.writeStaticString("Connection: close\r\n") }
        if !hasServer { HTTPWireFormat.writeField("Server", serverName, into: &out) }
        HTTPWireFormat.writeEndOfHead(into: &out)
        if inlinesBody {
            out.writeBuffer(&body)
            context.write(wrapOutboundOut(out), promise: nil)
        } else {
            context.write(wrapOutboundOut(out), promise: nil)
            if sendsBody { context.write(wrapOutboundOut(body), promise: nil) }
        }
    }

    /// A `Content-Length` the answer carries (only an upstream's answer to
    /// HEAD keeps one), when it is a plain non-negative number.
    private static func declaredLength(_ headers: HeaderList) -> Int? {
        guard let text = headers.first("Content-Length"), !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let length = Int(text) else { return nil }
        return length
    }

    /// Headers the gateway sets itself when it frames a response.
    private static let framingHeaders = ["content-length", "connection", "transfer-encoding"]

    private func close(_ context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        context.close(promise: nil)
    }
}
