import NIOCore
import NIOPosix

/// A TCP server on loopback that answers anything it receives with a fixed
/// byte string: a misbehaving "Redis" for parser-robustness tests.
final class FakeServer: Sendable {
    private let channel: Channel

    /// Answers every read with `reply`, `delay` after it arrives.
    init(port: Int, reply: String, after delay: TimeAmount = .zero) throws {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FixedReplyHandler(reply: reply, delay: delay))
                }
            }
        channel = try bootstrap.bind(host: "127.0.0.1", port: port).wait()
    }

    func stop() {
        channel.close(promise: nil)
    }
}

private final class FixedReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let reply: String
    let delay: TimeAmount

    init(reply: String, delay: TimeAmount) {
        self.reply = reply
        self.delay = delay
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = context.channel.allocator.buffer(string: reply)
        guard delay > .zero else {
            context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
            return
        }
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: delay) {
            bound.value.writeAndFlush(NIOAny(bytes), promise: nil)
        }
    }
}
