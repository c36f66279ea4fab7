import Foundation
import PortcullisCore
import PortcullisJS

/// One API, from a Tyk classic API definition file: where it listens, where
/// it proxies to, how it authenticates and which JS hooks it runs.
public struct APIDefinition: Sendable, Equatable {
    /// `name`.
    public var name: String
    /// `api_id`: the id sessions' `access_rights` refer to.
    public var apiID: String
    /// `org_id`.
    public var orgID: String
    /// `active`: an inactive API is loaded but not routed.
    public var active: Bool
    /// `use_keyless`: no auth, no session stages.
    public var useKeyless: Bool
    /// `auth.auth_header_name` (default `Authorization`).
    public var authHeaderName: String
    /// Custom JS auth (`custom_plugin_auth_enabled` / `enable_coprocess_auth`).
    public var customAuthEnabled: Bool
    /// `proxy.listen_path`, always starting and ending with `/`.
    public var listenPath: String
    /// `proxy.target_url`; may be empty when every path is a virtual endpoint.
    public var targetURL: String
    /// `proxy.strip_listen_path`.
    public var stripListenPath: Bool
    /// `custom_middleware`.
    public var middleware: MiddlewareSection
    /// `config_data`, nil when `config_data_disabled`.
    public var configData: JSONValue?
    /// `session_lifetime` in seconds; 0 means sessions are never deleted by this API.
    public var sessionLifetime: Int64
    /// `session_lifetime_respects_key_expiration`.
    public var sessionLifetimeRespectsKeyExpiration: Bool
    /// Virtual endpoints from every version's `extended_paths.virtual`.
    public var virtualEndpoints: [VirtualEndpointDefinition]
    /// `disable_rate_limit`.
    public var disableRateLimit: Bool
    /// `disable_quota`.
    public var disableQuota: Bool
    /// The file it was loaded from.
    public var file: String
    /// JWT authentication (`enable_jwt`), nil for token or custom auth.
    public var jwt: JWTSettings? = nil
    /// The API-level rate limit every client shares (`global_rate_limit`),
    /// nil when there is none.
    public var globalRateLimit: APIRateLimit? = nil
    /// Which format the file is in.
    public var format: DefinitionFormat = .classic
    /// `internal` (Tyk OAS `info.state.internal`): served only to `tyk://`
    /// loops from other APIs, never from the listener.
    public var isInternal: Bool = false
}

/// The format of an API definition file.
public enum DefinitionFormat: String, Sendable, Equatable {
    /// A Tyk classic API definition.
    case classic
    /// A Tyk OAS API definition: an OpenAPI document with `x-tyk-api-gateway`.
    case oas
}

/// `global_rate_limit`: requests per `per` seconds for the whole API, on
/// one counter all clients and nodes share.
public struct APIRateLimit: Sendable, Equatable {
    /// Requests allowed per window.
    public var rate: Double
    /// The window in seconds.
    public var per: Double

    /// Creates a limit.
    public init(rate: Double, per: Double) {
        self.rate = rate
        self.per = per
    }
}

/// `custom_middleware`: the JS hooks of an API.
public struct MiddlewareSection: Sendable, Equatable {
    /// `pre` hooks, run before auth with an empty session.
    public var pre: [MiddlewareEntry] = []
    /// `post_key_auth` hooks, run right after auth.
    public var postKeyAuth: [MiddlewareEntry] = []
    /// `post` hooks, run just before the proxy.
    public var post: [MiddlewareEntry] = []
    /// `auth_check`: the custom JS auth hook.
    public var authCheck: MiddlewareEntry?
    /// `response` hooks, run on the upstream's response.
    public var response: [MiddlewareEntry] = []
    /// `driver`: `otto`, `javascript` or `goja` all run on JavaScriptCore; empty runs JS with a warning.
    public var driver: String = ""

    /// Every entry, for loading files.
    public var all: [MiddlewareEntry] { pre + postKeyAuth + post + response + (authCheck.map { [$0] } ?? []) }

    /// Creates an empty section.
    public init() {}
}

/// One hook: the global name to call and the file that defines it.
public struct MiddlewareEntry: Sendable, Equatable {
    /// Global variable name of the middleware object.
    public var name: String
    /// Plugin file path.
    public var path: String
    /// `disabled`: skipped.
    public var disabled: Bool
    /// `require_session`: the hook sees the session and may replace `meta_data`.
    public var requireSession: Bool

    /// Creates an entry.
    public init(name: String, path: String, disabled: Bool = false, requireSession: Bool = false) {
        self.name = name
        self.path = path
        self.disabled = disabled
        self.requireSession = requireSession
    }
}

/// A virtual endpoint: a JS function that answers a path without an upstream.
public struct VirtualEndpointDefinition: Sendable, Equatable {
    /// The path (relative to the listen path) it answers, as written.
    public var path: String
    /// How Tyk matches that path (an unanchored pattern).
    public var pattern: EndpointPattern
    /// The HTTP method it answers.
    public var method: String
    /// The global function to call.
    public var functionName: String
    /// The JS source (from a file or a base64 blob).
    public var source: PluginScript
    /// `use_session`: the function sees the session and may replace its meta_data.
    public var useSession: Bool
    /// `proxy_on_error`: on a JS error, fall through to the upstream.
    public var proxyOnError: Bool
}
