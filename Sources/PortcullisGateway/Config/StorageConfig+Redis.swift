import PortcullisSessions

extension StorageConfig {
    /// The Redis client settings these `storage` fields describe: one
    /// server, or the primary that `master_name` names on the sentinels in
    /// `addrs`; TLS with `use_ssl`; ACL user and password; `wait_replicas`.
    public var redisConfiguration: RedisConfiguration {
        let sentinels = addrs.compactMap(GatewayConfig.hostPort)
        return RedisConfiguration(
            host: host, port: port, username: username, password: password, database: database, commandTimeout: timeout,
            tls: useSSL ? RedisTLSSettings(caFile: caFile, certFile: certFile, keyFile: keyFile, insecureSkipVerify: sslInsecureSkipVerify) : nil,
            sentinel: masterName.isEmpty ? nil : RedisSentinelSettings(masterName: masterName, sentinels: sentinels, password: sentinelPassword),
            waitReplicas: waitReplicas, waitTimeoutMilliseconds: waitTimeoutMilliseconds)
    }
}
