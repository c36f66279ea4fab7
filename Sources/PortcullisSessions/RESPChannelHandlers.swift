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
    /// The command's name, for the timeout error.
    var name: String
    /// Seconds the reply may take before the command fails with
    /// ``SessionStoreError/timeout(command:seconds:)``.
    var timeout: Double
}

/// Matches replies to pipelined commands in order. Anything that breaks
/// the stream (a parse error, an unsolicited reply, the connection closing)
/// fails every pending command with ``SessionStoreError`` and closes the
/// channel, so callers never wait for a reply that cannot come.
///
/// A command whose reply is overdue fails with a timeout; its reply, if it
/// still comes, is matched and dropped. One timer per connection watches
/// the oldest command still waiting, instead of one timer per command:
/// arming and cancelling a timer for every command cost more than sending
/// it.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Waiting {
        let reply: EventLoopPromise<RESPValue>
        let name: String
        let timeout: Double
        let deadline: NIODeadline
        var timedOut = false
    }

    private var pending = CircularBuffer<Waiting>(initialCapacity: 16)
    private var timer: Scheduled<Void>?
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
        let deadline = NIODeadline.now() + .nanoseconds(Int64(request.timeout * 1_000_000_000))
        pending.append(Waiting(reply: request.reply, name: request.name, timeout: request.timeout, deadline: deadline))
        if timer == nil { arm(context, at: deadline) }
        context.write(wrapOutboundOut(request.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        guard let waiting = pending.popFirst() else {
            failAll(SessionStoreError.badReply(command: "(none)", reason: "unsolicited reply \(value.summary)"))
            context.close(promise: nil)
            return
        }
        // A command that timed out was failed already; its late reply is dropped.
        if !waiting.timedOut { waiting.reply.succeed(value) }
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

    /// Wakes at `deadline` to fail what is overdue by then.
    private func arm(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            handler.value.expireOverdue(context)
        }
    }

    /// Fails every command past its deadline, then waits for the next one.
    /// Commands were sent in order with the same timeout, so the deadlines
    /// rise along the queue and the first one not yet due ends the scan.
    private func expireOverdue(_ context: ChannelHandlerContext) {
        timer = nil
        let now = NIODeadline.now()
        for index in pending.indices where !pending[index].timedOut {
            let waiting = pending[index]
            guard waiting.deadline <= now else {
                arm(context, at: waiting.deadline)
                return
            }
            pending[index].timedOut = true
            waiting.reply.fail(SessionStoreError.timeout(command: waiting.name, seconds: waiting.timeout))
        }
    }

    private func failAll(_ error: SessionStoreError) {
        timer?.cancel()
        timer = nil
        while let waiting = pending.popFirst() {
            if !waiting.timedOut { waiting.reply.fail(error) }
        }
    }
}
