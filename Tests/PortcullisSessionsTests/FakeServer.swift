import NIOCore
import NIOPosix

/// A TCP server on loopback that answers anything it receives with a fixed
/// byte string: a misbehaving "Redis" for parser-robustness tests.
final class FakeServer: Sendable {
    private let channel: Channel

    /// Answers every read with `reply`; with `drip`, one byte of it every
    /// `drip` instead of all at once.
    init(port: Int, reply: String, drip: TimeAmount? = nil) throws {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FixedReplyHandler(reply: reply, drip: drip))
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
    let drip: TimeAmount?

    init(reply: String, drip: TimeAmount?) {
        self.reply = reply
        self.drip = drip
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = context.channel.allocator.buffer(string: reply)
        guard let drip else {
            context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
            return
        }
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        for offset in 0..<bytes.readableBytes {
            guard let byte = bytes.getSlice(at: offset, length: 1) else { break }
            context.eventLoop.scheduleTask(in: drip * Int64(offset)) {
                bound.value.writeAndFlush(NIOAny(byte), promise: nil)
            }
        }
    }
}
