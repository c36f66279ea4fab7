import PortcullisCore
import PortcullisJS

/// Serves a fixture's `TykMakeHttpRequest` and `TykBatchRequest` calls from
/// its canned answers instead of the network. A call that no stub matches
/// gets a transport error (the plugin sees `undefined`, as on a failed call)
/// and is remembered, so the fixture fails naming the URL.
public final class StubHTTPTransport: PluginHTTPTransport {
    /// One call no stub matched.
    public struct UnmatchedCall: Sendable, Equatable, CustomStringConvertible {
        /// The method the plugin used.
        public var method: String
        /// The URL the plugin called.
        public var url: String

        /// Creates a record of a call.
        public init(method: String, url: String) {
            self.method = method
            self.url = url
        }

        /// "GET https://…", as shown in the report.
        public var description: String { "\(method) \(url)" }
    }

    /// The error the plugin's call fails with when no stub matches.
    public struct NoStub: Error, CustomStringConvertible {
        /// The call.
        public var call: UnmatchedCall

        /// Names the call and where to add a stub for it.
        public var description: String { "no stub in the fixture's \"http\" answers \(call)" }
    }

    private let stubs: [PluginFixture.HTTPStub]
    private let unmatchedCalls = Locked<[UnmatchedCall]>([])

    /// Creates a transport answering from `stubs`.
    public init(stubs: [PluginFixture.HTTPStub]) {
        self.stubs = stubs
    }

    /// Calls no stub matched, oldest first.
    public var unmatched: [UnmatchedCall] { unmatchedCalls.value }

    /// Answers from the first stub with the same method and URL.
    public func send(_ request: PluginHTTPRequest) async throws -> PluginHTTPResponse {
        let method = request.method.isEmpty ? "GET" : request.method.uppercased()
        if let stub = stubs.first(where: { $0.method == method && $0.url == request.url }) {
            return stub.response
        }
        let call = UnmatchedCall(method: method, url: request.url)
        unmatchedCalls.withLock { $0.append(call) }
        throw NoStub(call: call)
    }
}
