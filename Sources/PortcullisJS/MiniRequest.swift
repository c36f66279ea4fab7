import PortcullisCore

/// The request object a Tyk JS middleware receives and returns
/// (`MiniRequestObject`): field names and shapes exactly as Tyk passes them.
///
/// `body` is plain text here; the engine converts bytes to text and back so a
/// handler appending to `request.Body` keeps non-UTF-8 bytes intact.
public struct MiniRequest: Sendable, Equatable {
    /// The stored fields; the accessors below say what each one is.
    private struct Fields: Sendable, Equatable {
        var headers: [String: [String]] = [:]
        var setHeaders: [String: String] = [:]
        var deleteHeaders: [String] = []
        var body: String = ""
        var url: String = "/"
        var params: [String: [String]] = [:]
        var addParams: [String: String] = [:]
        var extendedParams: [String: [String]] = [:]
        var deleteParams: [String] = []
        var returnOverrides: ReturnOverrides = ReturnOverrides()
        var ignoreBody: Bool = false
        var method: String = "GET"
        var requestURI: String = "/"
        var scheme: String = "http"
        var attributes: RequestAttributes = RequestAttributes()
    }

    /// The fields, shared by this object's copies until one of them changes:
    /// it travels from the event loop to a JS worker and back inside several values.
    private var storage: CopyOnWrite<Fields>

    /// Incoming headers, canonical names, every value a list (`Headers` in JS).
    public var headers: [String: [String]] {
        get { storage.value.headers }
        _modify { yield &storage.value.headers }
    }
    /// Headers to set on the upstream request, replacing existing values.
    public var setHeaders: [String: String] {
        get { storage.value.setHeaders }
        _modify { yield &storage.value.setHeaders }
    }
    /// Header names to remove before `setHeaders` is applied.
    public var deleteHeaders: [String] {
        get { storage.value.deleteHeaders }
        _modify { yield &storage.value.deleteHeaders }
    }
    /// The request body as text.
    public var body: String {
        get { storage.value.body }
        _modify { yield &storage.value.body }
    }
    /// Path and raw query, including the listen path.
    public var url: String {
        get { storage.value.url }
        _modify { yield &storage.value.url }
    }
    /// The query string's parameters (read-only for the handler).
    public var params: [String: [String]] {
        get { storage.value.params }
        _modify { yield &storage.value.params }
    }
    /// Query parameters to set, replacing existing values.
    public var addParams: [String: String] {
        get { storage.value.addParams }
        _modify { yield &storage.value.addParams }
    }
    /// Query parameter values to append.
    public var extendedParams: [String: [String]] {
        get { storage.value.extendedParams }
        _modify { yield &storage.value.extendedParams }
    }
    /// Query parameter names to delete.
    public var deleteParams: [String] {
        get { storage.value.deleteParams }
        _modify { yield &storage.value.deleteParams }
    }
    /// A response the handler wants sent instead of proxying.
    public var returnOverrides: ReturnOverrides {
        get { storage.value.returnOverrides }
        _modify { yield &storage.value.returnOverrides }
    }
    /// When true, the original body is kept whatever the handler returned.
    public var ignoreBody: Bool {
        get { storage.value.ignoreBody }
        _modify { yield &storage.value.ignoreBody }
    }
    /// The HTTP method (read-only).
    public var method: String {
        get { storage.value.method }
        _modify { yield &storage.value.method }
    }
    /// The raw request URI as received (read-only).
    public var requestURI: String {
        get { storage.value.requestURI }
        _modify { yield &storage.value.requestURI }
    }
    /// `http` or `https` (read-only).
    public var scheme: String {
        get { storage.value.scheme }
        _modify { yield &storage.value.scheme }
    }
    /// Who is calling and which API matched: fields Tyk never exposed
    /// (read-only; a Portcullis extension, Tyk issues 961 and 994).
    public var attributes: RequestAttributes {
        get { storage.value.attributes }
        _modify { yield &storage.value.attributes }
    }

    /// Creates a request object; unspecified fields take Tyk's zero values.
    public init(
        headers: [String: [String]] = [:], setHeaders: [String: String] = [:], deleteHeaders: [String] = [],
        body: String = "", url: String = "/", params: [String: [String]] = [:], addParams: [String: String] = [:],
        extendedParams: [String: [String]] = [:], deleteParams: [String] = [],
        returnOverrides: ReturnOverrides = ReturnOverrides(), ignoreBody: Bool = false,
        method: String = "GET", requestURI: String? = nil, scheme: String = "http",
        attributes: RequestAttributes = RequestAttributes()
    ) {
        storage = CopyOnWrite(Fields(
            headers: headers, setHeaders: setHeaders, deleteHeaders: deleteHeaders, body: body, url: url, params: params,
            addParams: addParams, extendedParams: extendedParams, deleteParams: deleteParams, returnOverrides: returnOverrides,
            ignoreBody: ignoreBody, method: method, requestURI: requestURI ?? url, scheme: scheme, attributes: attributes))
    }

    /// Equal when every field is equal, whether or not the two share storage.
    public static func == (lhs: MiniRequest, rhs: MiniRequest) -> Bool {
        lhs.storage == rhs.storage
    }
}

extension MiniRequest: Codable {
    enum CodingKeys: String, CodingKey {
        case headers = "Headers", setHeaders = "SetHeaders", deleteHeaders = "DeleteHeaders", body = "Body"
        case url = "URL", params = "Params", addParams = "AddParams", extendedParams = "ExtendedParams"
        case deleteParams = "DeleteParams", returnOverrides = "ReturnOverrides", ignoreBody = "IgnoreBody"
        case method = "Method", requestURI = "RequestURI", scheme = "Scheme"
    }

    /// Decodes what a handler returned. Missing or null fields take zero
    /// values, as Go's decoder does; wrong types are errors naming the field.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        storage = CopyOnWrite(Fields())
        headers = try c.decodeIfPresent([String: [String]].self, forKey: .headers) ?? [:]
        setHeaders = try c.decodeIfPresent([String: String].self, forKey: .setHeaders) ?? [:]
        deleteHeaders = try c.decodeIfPresent([String].self, forKey: .deleteHeaders) ?? []
        body = try c.decodeIfPresent(String.self, forKey: .body) ?? ""
        url = try c.decodeIfPresent(String.self, forKey: .url) ?? ""
        params = try c.decodeIfPresent([String: [String]].self, forKey: .params) ?? [:]
        addParams = try c.decodeIfPresent([String: String].self, forKey: .addParams) ?? [:]
        extendedParams = try c.decodeIfPresent([String: [String]].self, forKey: .extendedParams) ?? [:]
        deleteParams = try c.decodeIfPresent([String].self, forKey: .deleteParams) ?? []
        returnOverrides = try c.decodeIfPresent(ReturnOverrides.self, forKey: .returnOverrides) ?? ReturnOverrides()
        ignoreBody = try c.decodeIfPresent(Bool.self, forKey: .ignoreBody) ?? false
        method = try c.decodeIfPresent(String.self, forKey: .method) ?? ""
        requestURI = try c.decodeIfPresent(String.self, forKey: .requestURI) ?? ""
        scheme = try c.decodeIfPresent(String.self, forKey: .scheme) ?? ""
    }

    /// Encodes every field under Tyk's name.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(headers, forKey: .headers)
        try c.encode(setHeaders, forKey: .setHeaders)
        try c.encode(deleteHeaders, forKey: .deleteHeaders)
        try c.encode(body, forKey: .body)
        try c.encode(url, forKey: .url)
        try c.encode(params, forKey: .params)
        try c.encode(addParams, forKey: .addParams)
        try c.encode(extendedParams, forKey: .extendedParams)
        try c.encode(deleteParams, forKey: .deleteParams)
        try c.encode(returnOverrides, forKey: .returnOverrides)
        try c.encode(ignoreBody, forKey: .ignoreBody)
        try c.encode(method, forKey: .method)
        try c.encode(requestURI, forKey: .requestURI)
        try c.encode(scheme, forKey: .scheme)
    }
}

/// Facts about a request that Tyk's request object lacks, passed to
/// handlers as `request.RemoteAddr`, `request.Host`, `request.APIID`,
/// `request.APIName` and `request.ListenPath`. Empty when unknown (a
/// plugin run outside the gateway). Changes a handler makes are ignored.
public struct RequestAttributes: Sendable, Equatable {
    /// The client's IP address, as the gateway's socket saw it.
    public var remoteAddress: String
    /// The `Host` header (the name the client used).
    public var host: String
    /// The `api_id` of the API whose listen path matched.
    public var apiID: String
    /// The `name` of that API.
    public var apiName: String
    /// The listen path that matched, e.g. `/forum/`.
    public var listenPath: String

    /// Creates attributes; empty strings mean unknown.
    public init(remoteAddress: String = "", host: String = "", apiID: String = "", apiName: String = "", listenPath: String = "") {
        self.remoteAddress = remoteAddress
        self.host = host
        self.apiID = apiID
        self.apiName = apiName
        self.listenPath = listenPath
    }
}

/// A response the handler asks the gateway to send instead of continuing.
///
/// A `responseCode` of 400 or more (without `overrideError`) goes out as
/// Tyk's error body `{"error": "<responseError or responseBody>"}`; any other
/// non-zero code sends `responseBody` and `responseHeaders` verbatim.
public struct ReturnOverrides: Sendable, Equatable {
    /// Status code; 0 means "no override".
    public var responseCode: Int
    /// Error message; when non-empty it replaces `responseBody`.
    public var responseError: String
    /// Response body.
    public var responseBody: String
    /// Response headers.
    public var responseHeaders: [String: String]
    /// Send the body verbatim even for codes of 400 or more.
    public var overrideError: Bool

    /// Creates overrides; the defaults mean "no override".
    public init(responseCode: Int = 0, responseError: String = "", responseBody: String = "",
                responseHeaders: [String: String] = [:], overrideError: Bool = false) {
        self.responseCode = responseCode
        self.responseError = responseError
        self.responseBody = responseBody
        self.responseHeaders = responseHeaders
        self.overrideError = overrideError
    }

    /// True when the handler asked for a response to be sent.
    public var isSet: Bool { responseCode != 0 }
}

extension ReturnOverrides: Codable {
    enum CodingKeys: String, CodingKey {
        case responseCode = "ResponseCode", responseError = "ResponseError", responseBody = "ResponseBody"
        case responseHeaders = "ResponseHeaders", overrideError = "OverrideError"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        responseCode = try c.decodeIfPresent(Int.self, forKey: .responseCode) ?? 0
        responseError = try c.decodeIfPresent(String.self, forKey: .responseError) ?? ""
        responseBody = try c.decodeIfPresent(String.self, forKey: .responseBody) ?? ""
        responseHeaders = try c.decodeIfPresent([String: String].self, forKey: .responseHeaders) ?? [:]
        overrideError = try c.decodeIfPresent(Bool.self, forKey: .overrideError) ?? false
    }
}
