import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// Forwards a request to an API's upstream with async-http-client and
/// brings back the whole response (response hooks may rewrite it).
public final class UpstreamProxy: Sendable {
    /// What was sent upstream.
    public struct Outgoing: Sendable {
        /// HTTP method.
        public var method: String
        /// Absolute URL.
        public var url: String
        /// Headers, hop-by-hop ones already removed.
        public var headers: [(String, String)]
        /// Body bytes.
        public var body: [UInt8]
    }

    /// The upstream's answer.
    public struct Answer: Sendable {
        /// Status code.
        public var status: Int
        /// Headers in order.
        public var headers: [(String, String)]
        /// Body bytes.
        public var body: [UInt8]
    }

    private let client: HTTPClient
    private let timeout: TimeAmount
    private let maxResponseBytes: Int

    /// Creates a proxy with its own connection pool.
    public init(insecureSkipVerify: Bool, timeoutSeconds: Double = 30, maxResponseBytes: Int = 64 << 20) {
        var configuration = HTTPClient.Configuration.gateway(insecureSkipVerify: insecureSkipVerify, connectTimeout: .seconds(3))
        configuration.decompression = .disabled
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        timeout = .milliseconds(Int64(timeoutSeconds * 1000))
        self.maxResponseBytes = maxResponseBytes
    }

    /// Closes the pool.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    /// Headers that describe one connection, not the message, and are never forwarded.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "content-length", "host",
    ]

    /// Sends the request; errors become gateway errors (502 or 504).
    ///
    /// Uses the client's event-loop API with an accumulating delegate: the
    /// whole exchange stays on one event loop and the caller is resumed
    /// once, which costs far fewer task switches than streaming the body
    /// through the async API (the response is needed whole anyway).
    public func forward(_ outgoing: Outgoing) async throws -> Answer {
        let request: HTTPClient.Request
        do {
            var headers = HTTPHeaders()
            for (name, value) in outgoing.headers where !Self.hopByHop.contains(name.lowercased()) {
                headers.add(name: name, value: value)
            }
            request = try HTTPClient.Request(url: outgoing.url, method: HTTPMethod(rawValue: outgoing.method), headers: headers,
                                             body: outgoing.body.isEmpty ? nil : .bytes(outgoing.body))
        } catch {
            throw GatewayError.upstreamUnreachable("\(outgoing.method) \(outgoing.url): \(error)")
        }
        do {
            let delegate = ResponseAccumulator(request: request, maxBodySize: maxResponseBytes)
            let response = try await client.execute(request: request, delegate: delegate, deadline: .now() + timeout).futureResult.get()
            let headers = response.headers.filter { !Self.hopByHop.contains($0.name.lowercased()) }.map { ($0.name, $0.value) }
            return Answer(status: Int(response.status.code), headers: headers, body: response.body.map { Array(buffer: $0) } ?? [])
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw GatewayError.upstreamTimeout("\(outgoing.method) \(outgoing.url)")
        } catch {
            throw GatewayError.upstreamUnreachable("\(outgoing.method) \(outgoing.url): \(error)")
        }
    }
}
