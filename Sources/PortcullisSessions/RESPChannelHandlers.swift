import NIOCore

/// Turns bytes from Redis into ``RESPValue``s. A parse error is passed on
/// as an error (the command handler fails what is pending and closes the
/// connection), never a crash.
final class RESPFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = RESPValue

    private let parser: RESPParser

    init(parser: RESPParser = RESPParser()) {
        self.parser = parser
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let value = try parser.parse(&buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(value))
        return .continue
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// A command on its way to Redis and where its reply goes.
struct RedisRequest: Sendable {
    var bytes: ByteBuffer
    var reply: EventLoopPromise<RESPValue>
}

/// Matches replies to pipelined commands in order. Anything that breaks
/// the stream (a parse error, an unsolicited reply, the connection closing)
/// fails every pending command with ``SessionStoreError`` and closes the
/// channel, so callers never wait for a reply that cannot come.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private var pending = CircularBuffer<EventLoopPromise<RESPValue>>(initialCapacity: 16)
    private let address: String

    init(address: String) {
        self.address = address
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        guard context.channel.isActive else {
            request.reply.fail(SessionStoreError.unavailable(reason: "connection to \(address) is closed"))
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        pending.append(request.reply)
        context.write(wrapOutboundOut(request.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        guard let reply = pending.popFirst() else {
            failAll(SessionStoreError.badReply(command: "(none)", reason: "unsolicited reply \(value.summary)"))
            context.close(promise: nil)
            return
        }
        reply.succeed(value)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let parseError = error as? RESPParseError {
            failAll(SessionStoreError.badReply(command: "(stream)", reason: parseError.description))
        } else {
            failAll(SessionStoreError.unavailable(reason: "connection to \(address) failed: \(error)"))
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(SessionStoreError.unavailable(reason: "connection to \(address) closed"))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failAll(SessionStoreError.unavailable(reason: "connection to \(address) closed"))
    }

    private func failAll(_ error: SessionStoreError) {
        while let reply = pending.popFirst() {
            reply.fail(error)
        }
    }
}
