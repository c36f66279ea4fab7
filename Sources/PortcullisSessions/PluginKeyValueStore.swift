/// The store behind the goja-era `TykStorageGet/Set/SetNX/Del/TTL/Incr`
/// bindings: plain strings under the `jsvm-store:` prefix (Tyk's layout),
/// on whichever ``SessionStore`` the gateway uses. Size limits are the
/// binding's job; this type only namespaces.
public struct PluginKeyValueStore: Sendable {
    /// Tyk's prefix for plugin keys.
    public static let prefix = "jsvm-store:"

    private let store: any SessionStore

    /// Wraps `store`.
    public init(store: any SessionStore) {
        self.store = store
    }

    /// The value, or nil when missing or expired.
    public func get(_ key: String) async throws -> String? {
        try await store.value(forKey: Self.prefix + key)
    }

    /// Stores a value; `ttlSeconds` 0 means no expiry.
    public func set(_ key: String, value: String, ttlSeconds: Int64) async throws {
        try await store.setValue(value, forKey: Self.prefix + key, ttlSeconds: ttlSeconds)
    }

    /// Stores only when absent; true when this call stored it.
    public func setIfAbsent(_ key: String, value: String, ttlSeconds: Int64) async throws -> Bool {
        try await store.setValueIfAbsent(value, forKey: Self.prefix + key, ttlSeconds: ttlSeconds)
    }

    /// Deletes; the number of keys removed (0 or 1).
    public func delete(_ key: String) async throws -> Int {
        try await store.deleteValue(forKey: Self.prefix + key)
    }

    /// Remaining seconds: -1 no expiry, -2 missing.
    public func ttl(_ key: String) async throws -> Int64 {
        try await store.timeToLive(forKey: Self.prefix + key)
    }

    /// Atomically adds one; `ttlSeconds` applies only when the key is created.
    public func increment(_ key: String, ttlSeconds: Int64) async throws -> Int64 {
        try await store.increment(key: Self.prefix + key, ttlSecondsOnCreate: ttlSeconds, repairMissingTTL: false)
    }
}
