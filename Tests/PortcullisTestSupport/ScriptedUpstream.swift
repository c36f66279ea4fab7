import NIOCore
import NIOPosix

/// A loopback upstream that answers every request with the same bytes, as
/// given: the framings a well-behaved test server never makes (chunked
/// bodies with extensions and trailers, bodies ended by closing, interim
/// 1xx answers, broken framing).
public final class ScriptedUpstream: Sendable {
    /// The bound port.
    public let port: Int
    private let channel: any Channel

    /// Starts on a free port. Each request (its head, up to the blank line)
    /// is answered with `answer`; with `closeAfter`, the connection is
    /// closed after it.
    public static func start(answer: String, closeAfter: Bool = false) async throws -> ScriptedUpstream {
        let bytes = Array(answer.utf8)
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ScriptedAnswerHandler(answer: bytes, closeAfter: closeAfter))
                }
            }
        let channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        guard let port = channel.localAddress?.port else { throw CancellationError() }
        return ScriptedUpstream(port: port, channel: channel)
    }

    private init(port: Int, channel: any Channel) {
        self.port = port
        self.channel = channel
    }

    /// `http://127.0.0.1:<port>`.
    public var base: String { "http://127.0.0.1:\(port)" }

    /// Closes the listening socket.
    public func stop() async {
        try? await channel.close()
    }
}

private final class ScriptedAnswerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let answer: [UInt8]
    private let closeAfter: Bool
    private var received: [UInt8] = []

    init(answer: [UInt8], closeAfter: Bool) {
        self.answer = answer
        self.closeAfter = closeAfter
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        received += buffer.readBytes(length: buffer.readableBytes) ?? []
        // Requests here carry no body: each ends at its blank line.
        while let end = Self.endOfHead(in: received) {
            received.removeFirst(end)
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: answer)), promise: nil)
            if closeAfter {
                context.close(promise: nil)
                return
            }
        }
    }

    private static func endOfHead(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index + 4
        }
        return nil
    }
}
