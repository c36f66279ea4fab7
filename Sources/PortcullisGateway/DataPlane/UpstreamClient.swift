import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Forwards requests to upstreams over keep-alive connections owned by the
/// event loop the request arrived on: one pool per loop, so a proxied
/// request never changes threads and needs no task or continuation.
///
/// Answers are collected whole, up to `maxResponseBytes`: response hooks
/// may rewrite any part of them, and Tyk's middleware sees whole bodies too.
public final class UpstreamClient: Sendable {
    private let pools: [ObjectIdentifier: UpstreamConnectionPool]
    private let group: any EventLoopGroup
    private let responseTimeout: TimeAmount
    private let maxResponseBytes: Int

    /// Creates pools on every loop of `group` (NIO's shared loops by default).
    ///
    /// - Parameters:
    ///   - insecureSkipVerify: accept any upstream certificate (`proxy_ssl_insecure_skip_verify`).
    ///   - connectTimeout: a connection not made by then answers 502.
    ///   - responseTimeout: an answer not complete by then answers 504.
    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, insecureSkipVerify: Bool,
                connectTimeout: TimeAmount = .seconds(3), responseTimeout: TimeAmount = .seconds(30),
                maxResponseBytes: Int = 64 << 20, maxIdlePerTarget: Int = 256) {
        var tls = TLSConfiguration.makeClientConfiguration()
        if insecureSkipVerify { tls.certificateVerification = .none }
        // A quarter of the response timeout, at most 250 ms: a slow answer is
        // cut off within that much of its deadline.
        let sweep = TimeAmount.nanoseconds(max(10_000_000, min(250_000_000, responseTimeout.nanoseconds / 4)))
        var settings = UpstreamConnectionPool.Settings(connectTimeout: connectTimeout, idleTimeout: .seconds(60),
                                                       sweepInterval: sweep, maxIdlePerTarget: maxIdlePerTarget,
                                                       tls: nil, tlsSetupError: nil)
        do {
            settings.tls = try NIOSSLContext(configuration: tls)
        } catch {
            settings.tlsSetupError = "\(error)"
        }
        var pools: [ObjectIdentifier: UpstreamConnectionPool] = [:]
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = UpstreamConnectionPool(eventLoop: loop, settings: settings)
        }
        self.pools = pools
        self.group = group
        self.responseTimeout = responseTimeout
        self.maxResponseBytes = maxResponseBytes
    }

    /// Sends `request` from `eventLoop` and calls `completion` on that loop.
    /// Must be called on `eventLoop`. A loop that is not one of the
    /// client's hops to one of its own and back.
    public func send(_ request: UpstreamRequest, on eventLoop: any EventLoop,
                     completion: @escaping (Result<UpstreamAnswer, GatewayError>) -> Void) {
        if let pool = pools[ObjectIdentifier(eventLoop)] {
            pool.send(request, limit: maxResponseBytes, timeout: responseTimeout) { result in
                completion(result.mapError { Self.gatewayError($0, request) })
            }
            return
        }
        let bound = NIOLoopBound(completion, eventLoop: eventLoop)
        let other = group.next()
        other.execute { [self] in
            guard let pool = pools[ObjectIdentifier(other)] else { return }
            pool.send(request, limit: maxResponseBytes, timeout: responseTimeout) { result in
                let mapped = result.mapError { Self.gatewayError($0, request) }
                eventLoop.execute { bound.value(mapped) }
            }
        }
    }

    /// Sends `request` from any context; for callers that are already async.
    public func send(_ request: UpstreamRequest) async throws -> UpstreamAnswer {
        let loop = group.next()
        let promise = loop.makePromise(of: UpstreamAnswer.self)
        loop.execute { [self] in
            send(request, on: loop) { promise.completeWith($0.mapError { $0 as any Error }) }
        }
        return try await promise.futureResult.get()
    }

    /// Closes every idle connection; later requests answer 502.
    public func shutdown() async {
        var closing: [EventLoopFuture<Void>] = []
        for pool in pools.values {
            closing.append(pool.eventLoop.submit { pool.close() })
        }
        for future in closing { try? await future.get() }
    }

    /// Connections currently open to upstreams, over all loops.
    public func openConnections() async -> Int {
        var total = 0
        for pool in pools.values {
            total += (try? await pool.eventLoop.submit { pool.openConnections }.get()) ?? 0
        }
        return total
    }

    static func gatewayError(_ failure: UpstreamFailure, _ request: UpstreamRequest) -> GatewayError {
        switch failure {
        case .connect(let reason):
            return .upstreamUnreachable("\(request.summary): \(reason)")
        case .broken(let reason, _):
            return .upstreamUnreachable("\(request.summary): \(reason)")
        case .timedOut:
            return .upstreamTimeout(request.summary)
        case .tooLarge(let limit):
            return .upstreamUnreachable("\(request.summary): the answer is larger than \(limit) bytes")
        }
    }
}
