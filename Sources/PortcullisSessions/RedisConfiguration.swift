/// How to reach Redis and how long to wait for it.
public struct RedisConfiguration: Sendable, Equatable {
    /// Host name or address (of the one Redis; unused with ``sentinel``).
    public var host: String
    /// TCP port.
    public var port: Int
    /// ACL user for `AUTH`; empty sends `AUTH <password>` (the default user).
    public var username: String
    /// `AUTH` password; empty sends none.
    public var password: String
    /// Database number (`SELECT`); 0 sends none.
    public var database: Int
    /// Longest wait for any one command's reply, in seconds. Past it the
    /// command fails with ``SessionStoreError/timeout(command:seconds:)``.
    public var commandTimeout: Double
    /// Longest wait for a TCP connection, in seconds.
    public var connectTimeout: Double
    /// Command connections kept open; commands are pipelined on each.
    public var poolSize: Int
    /// How often the pub/sub connection is checked with PING, in seconds; a
    /// PING unanswered within ``commandTimeout`` counts as a lost subscription.
    public var subscriptionHeartbeat: Double
    /// TLS to Redis (`use_ssl`); nil is plain TCP.
    public var tls: RedisTLSSettings?
    /// Find the primary through Redis Sentinel (`master_name`, `addrs`);
    /// nil talks to ``host``:``port``.
    public var sentinel: RedisSentinelSettings?
    /// Replicas a session write must reach before it is acknowledged
    /// (`storage.wait_replicas`, an extension): Redis `WAIT n timeout`
    /// after every session write and delete. 0 does not wait.
    public var waitReplicas: Int
    /// Longest `WAIT`, in milliseconds; a write that reaches fewer replicas
    /// in time fails as a store failure.
    public var waitTimeoutMilliseconds: Int

    /// Creates a configuration; the defaults match a local Redis.
    public init(host: String = "127.0.0.1", port: Int = 6379, username: String = "", password: String = "", database: Int = 0,
                commandTimeout: Double = 2, connectTimeout: Double = 2, poolSize: Int = 2, subscriptionHeartbeat: Double = 1,
                tls: RedisTLSSettings? = nil, sentinel: RedisSentinelSettings? = nil,
                waitReplicas: Int = 0, waitTimeoutMilliseconds: Int = 1000) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.commandTimeout = commandTimeout
        self.connectTimeout = connectTimeout
        self.poolSize = max(1, poolSize)
        self.subscriptionHeartbeat = subscriptionHeartbeat
        self.tls = tls
        self.sentinel = sentinel
        self.waitReplicas = max(0, waitReplicas)
        self.waitTimeoutMilliseconds = max(1, waitTimeoutMilliseconds)
    }

    /// `host:port`, for messages.
    var address: String { "\(host):\(port)" }
}

/// TLS to Redis: the files Tyk's `storage` section names.
public struct RedisTLSSettings: Sendable, Equatable {
    /// `ca_file`: PEM of the CAs that sign the server's certificate; empty
    /// uses the system's trust store.
    public var caFile: String
    /// `cert_file`: the client certificate (PEM), for Redis' `tls-auth-clients`.
    public var certFile: String
    /// `key_file`: its private key (PEM).
    public var keyFile: String
    /// `ssl_insecure_skip_verify`: accept any server certificate.
    public var insecureSkipVerify: Bool

    /// Creates TLS settings.
    public init(caFile: String = "", certFile: String = "", keyFile: String = "", insecureSkipVerify: Bool = false) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.insecureSkipVerify = insecureSkipVerify
    }
}

/// Redis Sentinel: which primary to follow and where the sentinels are.
public struct RedisSentinelSettings: Sendable, Equatable {
    /// `master_name`: the name the sentinels monitor.
    public var masterName: String
    /// `addrs`: the sentinels, `host:port` each.
    public var sentinels: [(host: String, port: Int)]
    /// `sentinel_password`: `AUTH` for the sentinels; empty sends none.
    public var password: String

    /// Creates sentinel settings.
    public init(masterName: String, sentinels: [(host: String, port: Int)], password: String = "") {
        self.masterName = masterName
        self.sentinels = sentinels
        self.password = password
    }

    /// Equal when the master name, password and sentinel addresses (in order) are.
    public static func == (a: RedisSentinelSettings, b: RedisSentinelSettings) -> Bool {
        a.masterName == b.masterName && a.password == b.password
            && a.sentinels.map { "\($0.host):\($0.port)" } == b.sentinels.map { "\($0.host):\($0.port)" }
    }
}
