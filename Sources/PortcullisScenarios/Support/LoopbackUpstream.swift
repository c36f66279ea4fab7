import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A real HTTP server on 127.0.0.1 for plugin HTTP calls to reach.
///
/// Paths: `/echo…` answers 200 with a JSON echo of method, path, headers and
/// body; `/status/N` answers N; `/delay/MS` answers after MS milliseconds
/// (at most 10 s); `/slow` answers after 3 s; anything else 200 "ok".
/// Every request is counted (``requestCount``).
public final class LoopbackUpstream: Sendable {
    /// The bound port.
    public let port: Int
    private let channel: any Channel

    private let counter: RequestCounter

    /// Requests received so far.
    public var requestCount: Int { counter.value }

    private init(port: Int, channel: any Channel, counter: RequestCounter) {
        self.counter = counter
        self.port = port
        self.channel = channel
    }

    /// Starts a server on a free port.
    public static func start() async throws -> LoopbackUpstream {
        let counter = RequestCounter()
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(UpstreamHandler(counter: counter))
                }
            }
        let channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        guard let port = channel.localAddress?.port else { throw CancellationError() }
        return LoopbackUpstream(port: port, channel: channel, counter: counter)
    }

    /// `http://127.0.0.1:PORT`.
    public var base: String { "http://127.0.0.1:\(port)" }

    /// Closes the listening socket.
    public func stop() async {
        try? await channel.close()
    }
}

private final class UpstreamHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let counter: RequestCounter
    private var head: HTTPRequestHead?

    init(counter: RequestCounter) {
        self.counter = counter
    }
    private var body: [UInt8] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            counter.increment()
            respond(context: context, head: head)
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead) {
        var status = HTTPResponseStatus.ok
        var payload = Array("ok".utf8)
        var delay: TimeAmount = .zero
        if head.uri.hasPrefix("/echo") {
            var headers: [String: String] = [:]
            for header in head.headers { headers[header.name.lowercased()] = header.value }
            let echo: [String: Any] = ["method": head.method.rawValue, "uri": head.uri, "headers": headers,
                                       "body": String(decoding: body, as: UTF8.self)]
            payload = (try? JSONSerialization.data(withJSONObject: echo, options: [.sortedKeys])).map(Array.init) ?? []
        } else if head.uri.hasPrefix("/status/"), let code = Int(head.uri.dropFirst("/status/".count)) {
            status = HTTPResponseStatus(statusCode: code)
            payload = Array("status \(code)".utf8)
        } else if head.uri.hasPrefix("/delay/"), let millis = Int64(head.uri.dropFirst("/delay/".count)) {
            delay = .milliseconds(max(0, min(millis, 10_000)))
        } else if head.uri.hasPrefix("/slow") {
            delay = .seconds(3)
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: String(payload.count))
        headers.add(name: "X-Upstream", value: "test")
        let responseHead = HTTPResponseHead(version: head.version, status: status, headers: headers)
        let loop = context.eventLoop
        let write = { [self] in
            context.write(self.wrapOutboundOut(.head(responseHead)), promise: nil)
            // 1xx, 204, 304 and answers to HEAD carry no body.
            if status.mayHaveResponseBody && head.method != .HEAD {
                context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: payload)))), promise: nil)
            }
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        }
        if delay == .zero {
            write()
        } else {
            let bound = NIOLoopBound(write, eventLoop: loop)
            loop.scheduleTask(in: delay) { bound.value() }
        }
    }
}

final class RequestCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}
