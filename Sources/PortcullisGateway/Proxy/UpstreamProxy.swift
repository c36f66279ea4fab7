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
    public func forward(_ outgoing: Outgoing) async throws -> Answer {
        var request = HTTPClientRequest(url: outgoing.url)
        request.method = HTTPMethod(rawValue: outgoing.method)
        for (name, value) in outgoing.headers where !Self.hopByHop.contains(name.lowercased()) {
            request.headers.add(name: name, value: value)
        }
        if !outgoing.body.isEmpty {
            request.body = .bytes(ByteBuffer(bytes: outgoing.body))
        }
        do {
            let response = try await client.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: maxResponseBytes)
            let headers = response.headers.filter { !Self.hopByHop.contains($0.name.lowercased()) }.map { ($0.name, $0.value) }
            return Answer(status: Int(response.status.code), headers: headers, body: Array(buffer: body))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw GatewayError.upstreamTimeout("\(outgoing.method) \(outgoing.url)")
        } catch {
            throw GatewayError.upstreamUnreachable("\(outgoing.method) \(outgoing.url): \(error)")
        }
    }
}
