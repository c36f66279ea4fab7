import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import PortcullisJS

/// Sends plugin HTTP requests (`TykMakeHttpRequest`, `TykBatchRequest`) with
/// async-http-client, honouring the gateway's TLS settings — unlike Tyk,
/// where `proxy_ssl_insecure_skip_verify` does not reach these calls.
public final class HTTPClientTransport: PluginHTTPTransport {
    /// TLS choices for plugin requests.
    public struct TLSOptions: Sendable {
        /// Accept any upstream certificate (`proxy_ssl_insecure_skip_verify`).
        public var insecureSkipVerify: Bool

        /// Creates TLS options; verification is on by default.
        public init(insecureSkipVerify: Bool = false) {
            self.insecureSkipVerify = insecureSkipVerify
        }
    }

    /// Why a plugin request failed.
    public enum TransportError: Error, CustomStringConvertible {
        /// The URL could not be turned into a request.
        case invalidRequest(url: String, reason: String)
        /// No answer within the timeout.
        case timedOut(url: String, seconds: Double)
        /// Connection refused, reset, TLS failure and the like.
        case failed(url: String, reason: String)

        public var description: String {
            switch self {
            case .invalidRequest(let url, let reason): return "cannot send to \(url): \(reason)"
            case .timedOut(let url, let seconds): return "no answer from \(url) within \(seconds) s"
            case .failed(let url, let reason): return "request to \(url) failed: \(reason)"
            }
        }
    }

    private let client: HTTPClient
    /// Largest response body kept, in bytes.
    public let maxResponseBytes: Int

    /// Creates a transport with its own connection pool; call ``shutdown()`` when done.
    public init(tls: TLSOptions = TLSOptions(), maxResponseBytes: Int = 16 << 20) {
        client = HTTPClient(eventLoopGroupProvider: .singleton,
                            configuration: .gateway(insecureSkipVerify: tls.insecureSkipVerify, connectTimeout: .seconds(2)))
        self.maxResponseBytes = maxResponseBytes
    }

    /// Closes the connection pool.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    public func send(_ request: PluginHTTPRequest) async throws -> PluginHTTPResponse {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { outgoing.headers.replaceOrAdd(name: name, value: value) }
        outgoing.headers.replaceOrAdd(name: "Connection", value: "close")
        if !request.body.isEmpty { outgoing.body = .bytes(ByteBuffer(bytes: request.body)) }
        let timeout = TimeAmount.milliseconds(Int64(request.timeoutSeconds * 1000))
        do {
            let response = try await client.execute(outgoing, timeout: timeout)
            let body = try await response.body.collect(upTo: maxResponseBytes)
            var headers: [String: [String]] = [:]
            for header in response.headers { headers[HeaderList.canonical(header.name), default: []].append(header.value) }
            return PluginHTTPResponse(status: Int(response.status.code), headers: headers, body: Array(buffer: body))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw TransportError.timedOut(url: request.url, seconds: request.timeoutSeconds)
        } catch let error as HTTPClientError where error == .invalidURL || error == .emptyHost || error == .emptyScheme {
            throw TransportError.invalidRequest(url: request.url, reason: "\(error)")
        } catch {
            throw TransportError.failed(url: request.url, reason: "\(error)")
        }
    }
}

extension HTTPClient.Configuration {
    /// How the gateway talks to upstreams: no redirects followed, TLS
    /// verification unless `insecureSkipVerify`, and a refused connection
    /// reported at once instead of retried until the request's deadline.
    static func gateway(insecureSkipVerify: Bool, connectTimeout: TimeAmount) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        if insecureSkipVerify {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            configuration.tlsConfiguration = tls
        }
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool.retryConnectionEstablishment = false
        // The client's default of 8 connections per host caps a gateway's
        // concurrency to one upstream at 8 requests; keep up to 256 open.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        configuration.connectionPool.idleTimeout = .seconds(60)
        configuration.timeout.connect = connectTimeout
        return configuration
    }
}
