import PortcullisCore

/// What a request middleware (pre, post, post_key_auth, auth_check) returned.
public struct MiddlewareOutcome: Sendable, Equatable {
    /// The request as the handler left it (headers to set/delete, body, URL,
    /// params, overrides). `headers` is always empty, as in Tyk.
    public var request: MiniRequest
    /// `ReturnData`'s second argument: the new `meta_data`, if given.
    /// nil when the handler passed `undefined`/`null`.
    public var sessionMeta: [String: String]?
    /// `ReturnAuthData`'s session, for auth hooks.
    public var session: JSONValue?
    /// The `AuthValue` an auth hook returned to name the key.
    public var authValue: String?
    /// What the plugin logged during the call.
    public var logs: [PluginLogLine]

    /// Creates an outcome.
    public init(request: MiniRequest, sessionMeta: [String: String]? = nil, session: JSONValue? = nil,
                authValue: String? = nil, logs: [PluginLogLine] = []) {
        self.request = request
        self.sessionMeta = sessionMeta
        self.session = session
        self.authValue = authValue
        self.logs = logs
    }
}

/// What a virtual endpoint function returned through `TykJsResponse`.
public struct VirtualEndpointOutcome: Sendable, Equatable {
    /// Status code (`Code`).
    public var code: Int
    /// Response headers.
    public var headers: [String: String]
    /// Response body.
    public var body: String
    /// New session metadata (any JSON), if returned.
    public var sessionMeta: JSONValue?
    /// What the plugin logged during the call.
    public var logs: [PluginLogLine]

    /// Creates an outcome.
    public init(code: Int, headers: [String: String] = [:], body: String = "", sessionMeta: JSONValue? = nil,
                logs: [PluginLogLine] = []) {
        self.code = code
        self.headers = headers
        self.body = body
        self.sessionMeta = sessionMeta
        self.logs = logs
    }
}

/// The response object a response hook receives and returns (Tyk v5.15's
/// `MiniResponseObject`).
public struct MiniResponse: Sendable, Equatable, Codable {
    /// Status code; 0 in a return value means "unchanged".
    public var statusCode: Int
    /// Body as plain text (never base64 for responses).
    public var body: String
    /// Upstream headers, every value a list.
    public var headers: [String: [String]]
    /// Headers to set.
    public var setHeaders: [String: String]
    /// Header names to delete (applied before `setHeaders`).
    public var deleteHeaders: [String]

    enum CodingKeys: String, CodingKey {
        case statusCode = "StatusCode", body = "Body", headers = "Headers"
        case setHeaders = "SetHeaders", deleteHeaders = "DeleteHeaders"
    }

    /// Creates a response object.
    public init(statusCode: Int, body: String = "", headers: [String: [String]] = [:],
                setHeaders: [String: String] = [:], deleteHeaders: [String] = []) {
        self.statusCode = statusCode
        self.body = body
        self.headers = headers
        self.setHeaders = setHeaders
        self.deleteHeaders = deleteHeaders
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        statusCode = try c.decodeIfPresent(Int.self, forKey: .statusCode) ?? 0
        body = try c.decodeIfPresent(String.self, forKey: .body) ?? ""
        headers = try c.decodeIfPresent([String: [String]].self, forKey: .headers) ?? [:]
        setHeaders = try c.decodeIfPresent([String: String].self, forKey: .setHeaders) ?? [:]
        deleteHeaders = try c.decodeIfPresent([String].self, forKey: .deleteHeaders) ?? []
    }
}

/// What a response hook returned.
public struct ResponseOutcome: Sendable, Equatable {
    /// The response as the handler left it.
    public var response: MiniResponse
    /// What the plugin logged during the call.
    public var logs: [PluginLogLine]

    /// Creates an outcome.
    public init(response: MiniResponse, logs: [PluginLogLine] = []) {
        self.response = response
        self.logs = logs
    }
}
