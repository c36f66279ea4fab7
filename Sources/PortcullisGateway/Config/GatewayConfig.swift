import PortcullisCore

/// The gateway's own settings, read from a `tyk.conf`-style JSON file.
/// Field names are Tyk's, so an existing `tyk.conf` loads as it is; fields
/// Portcullis does not use are ignored (and logged at debug level).
public struct GatewayConfig: Sendable, Equatable {
    /// Address to listen on (`listen_address`); empty means all interfaces.
    public var listenAddress: String = "127.0.0.1"
    /// Port to listen on (`listen_port`).
    public var listenPort: Int = 8080
    /// Admin API secret, sent as `x-tyk-authorization` (`secret`).
    public var secret: String = ""
    /// Folder of API definition files (`app_path`).
    public var appPath: String = "examples/apps"
    /// Folder convention for plugin files (`middleware_path`).
    public var middlewarePath: String = "./middleware"
    /// A JS file loaded into every API's context after the prelude (`tyk_js_path`).
    public var tykJSPath: String = ""
    /// Where sessions live (`storage`).
    public var storage: StorageConfig = StorageConfig()
    /// The node-local session cache (`local_session_cache`).
    public var localSessionCache: LocalSessionCacheConfig = LocalSessionCacheConfig()
    /// Store keys hashed (`hash_keys`).
    public var hashKeys: Bool = false
    /// Hash used for keys (`hash_key_function`): murmur32, murmur64, murmur128, sha256.
    public var hashKeyFunction: String = ""
    /// Show whole keys in logs (`enable_key_logging`); off masks them.
    public var enableKeyLogging: Bool = false
    /// Fallback store lifetime of sessions in seconds (`global_session_lifetime`).
    public var globalSessionLifetime: Int64 = 0
    /// Use the global lifetime even when the API sets one (`force_global_session_lifetime`).
    public var forceGlobalSessionLifetime: Bool = false
    /// Never delete a session before its `expires` (`session_lifetime_respects_key_expiration`).
    public var sessionLifetimeRespectsKeyExpiration: Bool = false
    /// Run JS middleware (`enable_jsvm`).
    public var enableJSVM: Bool = true
    /// Longest a plugin call may run, seconds (`jsvm_timeout`); 0 or less means 5.
    public var jsvmTimeout: Double = 5
    /// JavaScript worker threads (`jsvm_workers`, an extension); 0 means
    /// two per core. A worker waiting on a binding (a store call, an HTTP
    /// request) holds its thread, so more workers than cores keep the
    /// cores busy.
    public var jsvmWorkers: Int = 0
    /// The most JavaScript worker threads (`jsvm_max_workers`, an
    /// extension): when every worker has long been blocked on an outbound
    /// HTTP call, another is started, up to this many; 0 means 16 per CPU core.
    public var jsvmMaxWorkers: Int = 0
    /// How long a worker started past ``jsvmWorkers`` may take no call
    /// before it is stopped (`jsvm_worker_idle_seconds`, an extension).
    public var jsvmWorkerIdleSeconds: Double = 60
    /// Run the next queued plugin call while one waits for the store
    /// (`jsvm_nested_calls`, an extension; see
    /// `JSEngineConfiguration.nestedCalls`). Off by default.
    public var jsvmNestedCalls: Bool = false
    /// Defer the gateway's own session bookkeeping writes (`optimisations_use_async_session_write`).
    /// Plugin writes are always acknowledged before the plugin call returns.
    public var asyncSessionWrite: Bool = false
    /// Allow sessions with empty `access_rights` (`allow_master_keys`).
    public var allowMasterKeys: Bool = false
    /// Accept any upstream certificate (`proxy_ssl_insecure_skip_verify`), also for plugin HTTP calls.
    public var proxySSLInsecureSkipVerify: Bool = false
    /// `proxy_default_timeout`: seconds an upstream has to answer before the client gets 504.
    public var proxyDefaultTimeout: Double = 30
    /// Keep the spelling a plugin gives header names in `SetHeaders`
    /// (`ignore_canonical_mime_header_key`); by default they are written in
    /// Go's canonical form (`x-user-id` → `X-User-Id`), as Tyk writes them.
    public var ignoreCanonicalMIMEHeaderKey: Bool = false
    /// Anchor endpoint paths at their start (`http_server_options.enable_path_prefix_matching`).
    public var pathPrefixMatching: Bool = false
    /// Anchor endpoint paths at their end (`http_server_options.enable_path_suffix_matching`).
    public var pathSuffixMatching: Bool = false
    /// Match endpoint paths in any letter case (`ignore_endpoint_case`).
    public var ignoreEndpointCase: Bool = false
    /// Shortest key accepted by token auth (`min_token_length`).
    public var minTokenLength: Int = 3
    /// Largest request body accepted, in bytes (`max_request_body_size`); 0 means the default 10 MiB.
    public var maxRequestBodySize: Int = 0

    /// Largest total size of request headers, in bytes (`max_header_bytes`,
    /// a Portcullis extension); larger requests get 431.
    public var maxHeaderBytes: Int = 32 * 1024
    /// Address of a separate listener for the admin API
    /// (`control_api_hostname`); used only with `control_api_port`.
    public var controlAPIHostname: String = ""
    /// Port of a separate listener for the admin API (`control_api_port`);
    /// 0 serves it on the main listener. When set, `/tyk/…` is not served
    /// on the main listener at all.
    public var controlAPIPort: Int = 0
    /// Which sessions `TykGetKeyData`/`TykSetKeyData` may touch
    /// (`plugin_key_scope`, a Portcullis extension).
    public var pluginKeyScope: PluginKeyScope = .grantedAPIs
    /// Hosts `TykMakeHttpRequest` may reach (`plugin_http_allow`, `plugin_http_deny`).
    public var pluginHTTP: PluginHTTPPolicy = PluginHTTPPolicy()
    /// Where security policies are read from (`policies`).
    public var policies: PolicySourceConfig = PolicySourceConfig()
    /// TLS on the listener (`http_server_options.use_ssl`, `certificates`,
    /// `min_version`); nil serves plain HTTP.
    public var listenerTLS: ListenerTLSConfig? = nil
    /// Serve the control listener over TLS too (`control_api_use_ssl`);
    /// defaults to `http_server_options.use_ssl`.
    public var controlAPIUseSSL: Bool = false
    /// Request tracing (`opentelemetry`); off by default.
    public var openTelemetry: OpenTelemetryConfig = OpenTelemetryConfig()

    /// Creates a configuration with Portcullis' defaults.
    public init() {}
}

/// How far a plugin's session bindings reach.
public enum PluginKeyScope: String, Sendable, Equatable {
    /// `"api"`: a plugin reads or overwrites a session only if the session
    /// grants the plugin's own API (or grants nothing yet). The default.
    case grantedAPIs = "api"
    /// `"any"`: Tyk's behaviour; any plugin reads and writes any key.
    case any
}

/// `storage`: the session store.
public struct StorageConfig: Sendable, Equatable {
    /// `memory` (embedded, one node) or `redis`.
    public var type: String = "memory"
    /// Redis host.
    public var host: String = "127.0.0.1"
    /// Redis port.
    public var port: Int = 6379
    /// Redis ACL user (`username`); empty uses the default user.
    public var username: String = ""
    /// Redis password.
    public var password: String = ""
    /// Redis database number.
    public var database: Int = 0
    /// Per-command timeout in seconds.
    public var timeout: Double = 2
    /// TLS to Redis (`use_ssl`).
    public var useSSL: Bool = false
    /// Accept any Redis server certificate (`ssl_insecure_skip_verify`).
    public var sslInsecureSkipVerify: Bool = false
    /// CA certificates for Redis' certificate, PEM (`ca_file`); empty uses the system's.
    public var caFile: String = ""
    /// Client certificate for Redis, PEM (`cert_file`).
    public var certFile: String = ""
    /// The client certificate's key, PEM (`key_file`).
    public var keyFile: String = ""
    /// The Sentinel master name (`master_name`); empty talks to `host`:`port`.
    public var masterName: String = ""
    /// The sentinels, `host:port` each (`addrs`), with `master_name`.
    public var addrs: [String] = []
    /// `AUTH` for the sentinels (`sentinel_password`).
    public var sentinelPassword: String = ""
    /// Replicas every session write must reach before it is acknowledged
    /// (`wait_replicas`, an extension); 0 does not wait.
    public var waitReplicas: Int = 0
    /// Longest wait for those replicas, milliseconds (`wait_timeout_ms`, an extension).
    public var waitTimeoutMilliseconds: Int = 1000

    /// Creates the default storage settings (in memory).
    public init() {}
}

/// `policies`: security policies from files, as Tyk reads them without a
/// dashboard. `policy_path` (a folder of one policy per `.json` file) wins
/// over `policy_record_name` (one file mapping id → policy); neither set
/// means no policies.
public struct PolicySourceConfig: Sendable, Equatable {
    /// `policy_record_name`: a JSON file of `{"<id>": {policy}, …}`.
    public var recordName: String = ""
    /// `policy_path`: a folder of policy files.
    public var path: String = ""

    /// Creates the default (no policies).
    public init() {}

    /// Whether any policy source is set.
    public var isConfigured: Bool { !recordName.isEmpty || !path.isEmpty }
}

/// TLS on the gateway's listeners, as Tyk's `http_server_options` has it.
public struct ListenerTLSConfig: Sendable, Equatable {
    /// One certificate, served to clients that ask for `domainName` (SNI).
    public struct Certificate: Sendable, Equatable {
        /// `domain_name`: an exact name, or `*.example.com`; the first
        /// certificate also answers clients that name no or another host.
        public var domainName: String
        /// `cert_file`: the certificate chain, PEM.
        public var certFile: String
        /// `key_file`: its private key, PEM.
        public var keyFile: String

        /// Creates a certificate entry.
        public init(domainName: String, certFile: String, keyFile: String) {
            self.domainName = domainName
            self.certFile = certFile
            self.keyFile = keyFile
        }
    }

    /// `certificates`, in order.
    public var certificates: [Certificate]
    /// `min_version`: the oldest TLS version accepted, `"1.0"` to `"1.3"`.
    public var minVersion: String

    /// Creates listener TLS settings.
    public init(certificates: [Certificate], minVersion: String = "1.2") {
        self.certificates = certificates
        self.minVersion = minVersion
    }
}

/// `local_session_cache`.
public struct LocalSessionCacheConfig: Sendable, Equatable {
    /// Turn the node-local cache off.
    public var disableCachedSessionState: Bool = false
    /// How long a cached session may be used, seconds (Tyk ignores this field and uses 10).
    public var cachedSessionTimeout: Double = 10

    /// Creates the default cache settings.
    public init() {}
}
