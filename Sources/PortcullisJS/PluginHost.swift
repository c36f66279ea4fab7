import Logging
/// What a plugin's bindings reach outside JavaScript: sessions, HTTP and the
/// plugin key-value store. The gateway implements it on its real session
/// layer (so a write is acknowledged and visible to the rest of the request
/// before `TykSetKeyData` returns); ``LocalPluginHost`` implements it in
/// memory for running plugins on their own.
///
/// Methods are `async`: a binding blocks only its own JS worker thread while
/// it waits, never an event loop.
public protocol PluginHost: Sendable {
    /// `TykGetKeyData(key, apiID)`: the stored session as JSON text, or
    /// `{"status":"error","message":"Key not found"}` when there is none.
    /// Expired sessions are returned as they are.
    func getKeyData(key: String, apiID: String) async throws -> String

    /// `TykGetKeyData` answered on the calling worker thread when the
    /// session is at hand without I/O (the in-memory store); nil when only
    /// ``getKeyData(key:apiID:)`` can answer. Saves the hand-over to
    /// another thread and back that an `async` call costs a blocked worker.
    func getKeyDataImmediately(key: String, apiID: String) throws -> String?

    /// `TykSetKeyData(key, json, suppressReset)`: stores the session and
    /// returns only once the write is acknowledged. Throws (becoming a JS
    /// exception) when the JSON is not a valid session or the store refuses.
    func setKeyData(key: String, sessionJSON: String, suppressReset: Bool) async throws

    /// `TykSetKeyData` done on the calling worker thread when the store
    /// can write there and then (the in-memory store; a Redis connection
    /// the worker blocks on): ``ImmediateKeyWrite/done``, or
    /// ``ImmediateKeyWrite/confirming(_:)`` when other nodes still have to
    /// confirm. ``ImmediateKeyWrite/mustWait``, having written nothing,
    /// sends the write through ``setKeyData(key:sessionJSON:suppressReset:)``.
    func setKeyDataImmediately(key: String, sessionJSON: String, suppressReset: Bool) throws -> ImmediateKeyWrite

    /// `TykMakeHttpRequest` / `TykBatchRequest`: sends one HTTP request.
    func send(_ request: PluginHTTPRequest) async throws -> PluginHTTPResponse

    /// `TykStorage*`: the plugin key-value store, namespaced per gateway.
    var storage: (any PluginStorage)? { get }

    /// Fields added to every log line the plugin writes during this call
    /// (the gateway adds `request_id` and `api_id`), so a plugin's lines can
    /// be found with the request's own.
    var logMetadata: Logger.Metadata { get }
}

extension PluginHost {
    /// Hosts answer through ``getKeyData(key:apiID:)`` unless they say otherwise.
    public func getKeyDataImmediately(key: String, apiID: String) throws -> String? { nil }

    /// Hosts write through ``setKeyData(key:sessionJSON:suppressReset:)`` unless they say otherwise.
    public func setKeyDataImmediately(key: String, sessionJSON: String, suppressReset: Bool) throws -> ImmediateKeyWrite { .mustWait }

    /// Hosts without a plugin store leave the `TykStorage*` bindings throwing.
    public var storage: (any PluginStorage)? { nil }

    /// No extra fields.
    public var logMetadata: Logger.Metadata { [:] }
}

/// How far ``PluginHost/setKeyDataImmediately(key:sessionJSON:suppressReset:)`` got.
public enum ImmediateKeyWrite: Sendable {
    /// Written and acknowledged: `TykSetKeyData` can return.
    case done
    /// Written; the closure waits for the acknowledgements still due.
    case confirming(@Sendable () async throws -> Void)
    /// Nothing written: the write has to wait for the store.
    case mustWait
}

/// The key-value store behind `TykStorageGet/Set/SetNX/Del/TTL/Incr`.
/// Keys arrive already checked (1–256 bytes) and values capped (64 KiB).
public protocol PluginStorage: Sendable {
    /// The value, or nil when missing or expired.
    func get(_ key: String) async throws -> String?
    /// Stores a value; `ttlSeconds` 0 means no expiry.
    func set(_ key: String, value: String, ttlSeconds: Int64) async throws
    /// Stores only when absent; true when this call stored it.
    func setIfAbsent(_ key: String, value: String, ttlSeconds: Int64) async throws -> Bool
    /// Deletes; the number of keys removed (0 or 1).
    func delete(_ key: String) async throws -> Int
    /// Remaining seconds: -1 no expiry, -2 missing (Redis semantics).
    func ttl(_ key: String) async throws -> Int64
    /// Atomically adds one; `ttlSeconds` applies only when the key is created.
    func increment(_ key: String, ttlSeconds: Int64) async throws -> Int64
}

/// One outgoing request made by a plugin.
public struct PluginHTTPRequest: Sendable, Equatable {
    /// HTTP method (`GET` when the plugin left it empty).
    public var method: String
    /// Absolute URL (`Domain` + `Resource`).
    public var url: String
    /// Headers in the order given.
    public var headers: [(String, String)]
    /// Body bytes, if any.
    public var body: [UInt8]
    /// Per-request timeout in seconds.
    public var timeoutSeconds: Double

    /// Creates a request.
    public init(method: String, url: String, headers: [(String, String)] = [], body: [UInt8] = [], timeoutSeconds: Double) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutSeconds = timeoutSeconds
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.method == rhs.method && lhs.url == rhs.url && lhs.body == rhs.body
            && lhs.timeoutSeconds == rhs.timeoutSeconds
            && lhs.headers.map { [$0.0, $0.1] } == rhs.headers.map { [$0.0, $0.1] }
    }
}

/// The upstream's answer to a ``PluginHTTPRequest``.
public struct PluginHTTPResponse: Sendable, Equatable {
    /// Status code.
    public var status: Int
    /// Headers, every value a list, as Tyk returns them.
    public var headers: [String: [String]]
    /// Body bytes.
    public var body: [UInt8]

    /// Creates a response.
    public init(status: Int, headers: [String: [String]] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Sends plugin HTTP requests; the gateway provides one on async-http-client.
public protocol PluginHTTPTransport: Sendable {
    /// Sends the request, honouring its timeout.
    func send(_ request: PluginHTTPRequest) async throws -> PluginHTTPResponse
}
