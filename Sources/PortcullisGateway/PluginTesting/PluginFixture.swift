import PortcullisCore
import PortcullisJS

/// One test case for a plugin, read from a fixture file: the request the
/// plugin is called with, the sessions and upstream answers it can reach,
/// and what it is expected to do. ``PluginFixtureParser`` documents the file
/// format; ``PluginFixtureRunner`` runs it.
public struct PluginFixture: Sendable, Equatable {
    /// The request the hook receives, in the fixture's own short form.
    public struct Request: Sendable, Equatable {
        /// HTTP method (default `GET`).
        public var method: String
        /// Path and query, including the listen path (default `/`).
        public var url: String
        /// Headers by name, each a list of values; names are put in Go's
        /// canonical form when the request is built, as the gateway does.
        public var headers: [String: [String]]
        /// The body as text.
        public var body: String

        /// Creates a request.
        public init(method: String = "GET", url: String = "/", headers: [String: [String]] = [:], body: String = "") {
            self.method = method
            self.url = url
            self.headers = headers
            self.body = body
        }
    }

    /// A canned answer for `TykMakeHttpRequest`/`TykBatchRequest`, matched by
    /// method and exact URL, so a fixture never reaches the network.
    public struct HTTPStub: Sendable, Equatable {
        /// The method it answers (upper case).
        public var method: String
        /// The absolute URL it answers, exactly as the plugin builds it (`Domain` + `Resource`).
        public var url: String
        /// The answer.
        public var response: PluginHTTPResponse

        /// Creates a stub.
        public init(method: String, url: String, response: PluginHTTPResponse) {
            self.method = method
            self.url = url
            self.response = response
        }
    }

    /// What the plugin must have done. Objects are matched as subsets: a
    /// field the fixture does not name is not checked, and a field expected
    /// as `null` must be absent (or null).
    public struct Expectations: Sendable, Equatable {
        /// Expected values by result field: `request`, `overrides`,
        /// `response`, `session_meta`, `session`, `auth_value` and
        /// `session_writes`.
        public var fields: [String: JSONValue]
        /// Substrings that must each appear in some log line.
        public var logs: [String]
        /// A substring of the error the plugin must fail with; nil when it must succeed.
        public var error: String?

        /// Creates expectations.
        public init(fields: [String: JSONValue] = [:], logs: [String] = [], error: String? = nil) {
            self.fields = fields
            self.logs = logs
            self.error = error
        }
    }

    /// The file the fixture was read from, as given.
    public var file: String
    /// What the fixture checks, shown in the report.
    public var name: String
    /// The global name to call; nil to use the one middleware the plugin defines.
    public var handler: String?
    /// The hook the plugin is run as.
    public var hook: PluginRunner.Hook
    /// Unix seconds to fix JavaScript's clock at; nil for the real time.
    public var now: Double?
    /// The request.
    public var request: Request
    /// The request's session: the handler's argument for post and
    /// post_key_auth hooks, and stored under ``key`` when that is set.
    public var session: JSONValue?
    /// The key ``session`` is stored under.
    public var key: String?
    /// The spec object's `APIID`.
    public var apiID: String
    /// The spec object's `OrgID`.
    public var orgID: String
    /// The spec object's `config_data`.
    public var configData: JSONValue?
    /// Sessions already in the store, by key, for `TykGetKeyData`.
    public var store: [String: JSONValue]
    /// Canned upstream answers for the plugin's HTTP calls.
    public var http: [HTTPStub]
    /// What the plugin must have done.
    public var expect: Expectations

    /// Creates a fixture.
    public init(file: String, name: String, handler: String? = nil, hook: PluginRunner.Hook = .pre, now: Double? = nil,
                request: Request = Request(), session: JSONValue? = nil, key: String? = nil,
                apiID: String = PluginFixture.defaultAPIID, orgID: String = "", configData: JSONValue? = nil,
                store: [String: JSONValue] = [:], http: [HTTPStub] = [], expect: Expectations = Expectations()) {
        self.file = file
        self.name = name
        self.handler = handler
        self.hook = hook
        self.now = now
        self.request = request
        self.session = session
        self.key = key
        self.apiID = apiID
        self.orgID = orgID
        self.configData = configData
        self.store = store
        self.http = http
        self.expect = expect
    }

    /// The `APIID` plugins see when a fixture names none.
    public static let defaultAPIID = "plugin-test"
}
