import NIOCore
import NIOHTTP1

/// The outbound end of an upstream connection's pipeline, below the
/// response decoder: sends requests that ``UpstreamExchangeHandler`` has
/// already framed into bytes.
///
/// The response decoder must still learn each request's method, because an
/// answer to `HEAD` has no body whatever its headers say, and it learns it
/// by watching request heads go past. So an exchange writes the head (for
/// the decoder to see; it is not sent), then the framed request as body
/// parts. This handler drops heads and ends and passes the bytes on: one
/// buffer per request, without a general encoder re-walking the headers.
final class UpstreamRequestWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = ByteBuffer

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head, .end:
            promise?.succeed(())
        case .body(let bytes):
            context.write(NIOAny(bytes), promise: promise)
        }
    }
}
