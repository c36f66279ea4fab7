import Foundation

/// Turns an API key into the one name it is stored under, so the admin API,
/// `TykGetKeyData`/`TykSetKeyData`, the auth stage, the node-local cache and
/// the invalidation messages all agree (design rule "one name per key"; Tyk's
/// cache uses murmur64 while its invalidation uses murmur32, see reference §7).
///
/// Layout, compatible with Tyk: sessions at `apikey-<key>` or, with
/// `hash_keys`, `apikey-<hash>`; quota counters at `quota-<key or hash>`.
public struct KeyNaming: Sendable, Equatable {
    /// Whether keys are stored hashed (`hash_keys`).
    public var hashKeys: Bool
    /// The configured `hash_key_function`; used for keys that do not name
    /// their own algorithm when ``hashLegacyKeysWithConfiguredFunction`` is on.
    public var hashFunction: KeyHashFunction
    /// Tyk hashes custom and legacy keys (those without an embedded `"h"`)
    /// with murmur32 whatever `hash_key_function` says. That is the default
    /// here too, so records stay readable by Tyk; turn this on to use the
    /// configured function for them instead.
    public var hashLegacyKeysWithConfiguredFunction: Bool

    /// Prefix of session records.
    public static let sessionPrefix = "apikey-"
    /// Prefix of quota counters.
    public static let quotaPrefix = "quota-"

    /// Creates a naming scheme; the defaults store keys in plain text.
    public init(hashKeys: Bool = false, hashFunction: KeyHashFunction = .murmur32, hashLegacyKeysWithConfiguredFunction: Bool = false) {
        self.hashKeys = hashKeys
        self.hashFunction = hashFunction
        self.hashLegacyKeysWithConfiguredFunction = hashLegacyKeysWithConfiguredFunction
    }

    /// The key as stored: itself, or its hash when `hash_keys` is on.
    public func storedName(_ key: String) -> String {
        guard hashKeys else { return key }
        let function = Self.embeddedFunction(key) ?? (hashLegacyKeysWithConfiguredFunction ? hashFunction : .murmur32)
        return function.hexDigest(key)
    }

    /// The session record's store key, `apikey-<stored name>`.
    public func sessionKey(_ key: String) -> String {
        Self.sessionPrefix + storedName(key)
    }

    /// The quota counter's store key, `quota-<stored name>`.
    public func quotaKey(_ key: String) -> String {
        Self.quotaPrefix + storedName(key)
    }

    /// The counter of a scoped quota (an API under a per-API or
    /// partitioned policy): `quota-<scope>-<stored name>`; "" is the key's own.
    public func quotaKey(_ key: String, scope: String) -> String {
        scope.isEmpty ? quotaKey(key) : Self.quotaPrefix + scope + "-" + storedName(key)
    }

    /// The algorithm named by a Tyk base64-JSON token (`{"org","id","h"}`), if any.
    static func embeddedFunction(_ key: String) -> KeyHashFunction? {
        guard key.hasPrefix("eyJ") else { return nil }
        var text = key
        while text.count % 4 != 0 { text += "=" }
        guard let data = Data(base64Encoded: text),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let name = object["h"] as? String, !name.isEmpty
        else { return nil }
        return KeyHashFunction(configName: name)
    }
}
