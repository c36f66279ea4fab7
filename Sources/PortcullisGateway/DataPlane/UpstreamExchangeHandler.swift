import NIOCore
import NIOHTTP1

/// Why one upstream exchange failed.
enum UpstreamFailure: Error, Sendable {
    /// No connection could be made.
    case connect(String)
    /// The connection closed or failed before the whole answer arrived;
    /// `receivedAnything` tells whether a retry could duplicate work the
    /// upstream already started answering.
    case broken(String, receivedAnything: Bool)
    /// No whole answer within the response timeout.
    case timedOut
    /// The answer's body passed the size limit.
    case tooLarge(limit: Int)
}

/// Sends one request at a time over a keep-alive upstream connection and
/// collects the whole answer (bounded), then tells its pool whether the
/// connection can carry another request.
///
/// Lives on the connection's event loop; every method is called there.
final class UpstreamExchangeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    typealias Completion = (Result<UpstreamAnswer, UpstreamFailure>) -> Void

    /// The exchange in progress, kept in the handler itself: a connection
    /// carries one at a time, so it needs no object of its own.
    private struct Exchange {
        let completion: Completion
        var answer: UpstreamResponseParser
        let deadline: NIODeadline
    }

    private var context: ChannelHandlerContext?
    private var exchange: Exchange?
    /// Told when an exchange ended: `true` when the connection may be reused.
    var onExchangeEnded: ((Bool) -> Void)?
    /// Told once when the connection closes.
    var onClose: (() -> Void)?
    /// Requests this connection has carried.
    private(set) var exchanges = 0

    /// Whether the connection can take a request now.
    var isReady: Bool { context?.channel.isActive == true && exchange == nil }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Writes `request` and reports its answer (or failure) once.
    func send(_ request: UpstreamRequest, limit: Int, timeout: TimeAmount, completion: @escaping Completion) {
        guard let context, context.channel.isActive else {
            completion(.failure(.broken("the connection was closed", receivedAnything: false)))
            return
        }
        exchanges += 1
        // `Host` and `Content-Length` are the proxy stage's to set. The
        // request is framed here, with a small body in the same buffer.
        var body = request.body
        let inlinesBody = body.readableBytes <= HTTPWireFormat.inlineBodyLimit
        var size = 32 + request.uri.utf8.count
        for (name, value) in request.headers { size += HTTPWireFormat.fieldSize(name, value) }
        var framed = context.channel.allocator.buffer(capacity: size + (inlinesBody ? body.readableBytes : 0))
        HTTPWireFormat.writeRequestLine(method: request.method, target: request.uri, into: &framed)
        for (name, value) in request.headers { HTTPWireFormat.writeField(name, value, into: &framed) }
        HTTPWireFormat.writeEndOfHead(into: &framed)
        if inlinesBody { framed.writeBuffer(&body) }
        // No timer per request: the pool's sweep calls `expire(dueBy:)`.
        // The request never carries `Connection` (the proxy stage drops it),
        // so only the answer decides whether the connection is kept.
        exchange = Exchange(completion: completion, answer: UpstreamResponseParser(answersHead: request.method == .HEAD, limit: limit),
                            deadline: .now() + timeout)
        context.write(wrapOutboundOut(framed), promise: nil)
        if !inlinesBody { context.write(wrapOutboundOut(body), promise: nil) }
        DeferredFlushes.flush(context.channel)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard exchange != nil else {
            // Nothing was asked: bytes now mean the upstream is out of step.
            context.close(promise: nil)
            return
        }
        do {
            // Read through `exchange` itself, never a copy of it, so the
            // body's buffer stays uniquely held and grows in place.
            guard let completed = try exchange?.answer.read(unwrapInboundIn(data)) else { return }
            finish(.success(completed.answer), reusable: completed.reusable)
        } catch HTTPFramingError.bodyTooLarge(let limit) {
            finish(.failure(.tooLarge(limit: limit)), reusable: false)
            context.close(promise: nil)
        } catch {
            finish(.failure(.broken("the upstream's answer: \(error)", receivedAnything: exchange?.answer.sawHead ?? false)), reusable: false)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let completed = exchange?.answer.readToClose() {
            // A body framed by the close ends with it.
            finish(.success(completed.answer), reusable: false)
        } else if let current = exchange {
            finish(.failure(.broken("the upstream closed the connection", receivedAnything: current.answer.sawHead)), reusable: false)
        }
        onClose?()
        onClose = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let current = exchange {
            finish(.failure(.broken("\(error)", receivedAnything: current.answer.sawHead)), reusable: false)
        }
        context.close(promise: nil)
    }

    /// Fails the exchange in progress with a timeout when its deadline has
    /// passed by `now`.
    func expire(dueBy now: NIODeadline) {
        guard let current = exchange, current.deadline <= now else { return }
        finish(.failure(.timedOut), reusable: false)
        context?.close(promise: nil)
    }

    private func finish(_ result: Result<UpstreamAnswer, UpstreamFailure>, reusable: Bool) {
        guard let current = exchange else { return }
        exchange = nil
        // The pool's callback holds the connection while it is busy; drop
        // it before calling, so the next exchange installs its own. The
        // pool hears first, so the caller's next request can reuse it.
        let ended = onExchangeEnded
        onExchangeEnded = nil
        ended?(reusable)
        current.completion(result)
    }

}

/// Headers that describe one connection, not the message.
enum UpstreamHeaders {
    /// Methods whose requests carry no `Content-Length: 0` when empty.
    static func allowsEmptyBody(_ method: HTTPMethod) -> Bool {
        switch method {
        case .GET, .HEAD, .DELETE, .OPTIONS, .TRACE, .CONNECT: return true
        default: return false
        }
    }

    /// Whether a client header is never forwarded upstream.
    static func isHopByHopRequest(_ name: String) -> Bool {
        // Most names have a length none of these has: no comparing needed.
        switch name.utf8.count {
        case 2, 4, 7, 10, 14, 17, 18, 19: break
        default: return false
        }
        return hopByHopRequest.contains { HeaderList.equalsASCIICaseInsensitive(name, $0) }
    }

    /// Never forwarded from the client to the upstream.
    static let hopByHopRequest: [String] = [
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "content-length", "host",
    ]
}

