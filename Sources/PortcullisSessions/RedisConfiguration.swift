/// How to reach Redis and how long to wait for it.
public struct RedisConfiguration: Sendable, Equatable {
    /// Host name or address.
    public var host: String
    /// TCP port.
    public var port: Int
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

    /// Creates a configuration; the defaults match a local Redis.
    public init(host: String = "127.0.0.1", port: Int = 6379, password: String = "", database: Int = 0,
                commandTimeout: Double = 2, connectTimeout: Double = 2, poolSize: Int = 2, subscriptionHeartbeat: Double = 1) {
        self.host = host
        self.port = port
        self.password = password
        self.database = database
        self.commandTimeout = commandTimeout
        self.connectTimeout = connectTimeout
        self.poolSize = max(1, poolSize)
        self.subscriptionHeartbeat = subscriptionHeartbeat
    }

    /// `host:port`, for messages.
    var address: String { "\(host):\(port)" }
}
