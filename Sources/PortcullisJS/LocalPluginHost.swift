import Foundation
import PortcullisCore

/// A complete plugin host kept in memory: sessions by key, a plugin
/// key-value store with TTLs on the engine's clock, and HTTP through a
/// transport you supply. It backs `portcullis plugin run` and lets plugin
/// authors test middleware without a gateway or Redis.
///
/// Writes are recorded in order so a tool can show what a plugin stored.
public final class LocalPluginHost: PluginHost, @unchecked Sendable {
    /// One `TykSetKeyData` call that was accepted.
    public struct SessionWrite: Sendable, Equatable {
        /// The key as the plugin passed it.
        public var key: String
        /// The session JSON as stored.
        public var session: JSONValue
        /// Whether the plugin asked to keep quotas (`suppressReset` "1").
        public var suppressReset: Bool
    }

    /// Why a write was refused; the plugin sees the description as an exception.
    public enum SessionWriteError: Error, CustomStringConvertible, Sendable {
        /// The text is not JSON.
        case notJSON(key: String, reason: String)
        /// The JSON is not an object.
        case notAnObject(key: String, found: String)
        /// An integer field holds something else (Tyk would drop the whole write).
        case notAnInteger(key: String, field: String, found: String)

        public var description: String {
            switch self {
            case .notJSON(let key, let reason):
                return "TykSetKeyData(\(KeyMask.mask(key))): the session is not valid JSON (\(reason))"
            case .notAnObject(let key, let found):
                return "TykSetKeyData(\(KeyMask.mask(key))): the session must be a JSON object, got \(found)"
            case .notAnInteger(let key, let field, let found):
                return "TykSetKeyData(\(KeyMask.mask(key))): field '\(field)' must be an integer (Unix seconds for expires), got \(found); use Math.floor(...)"
            }
        }
    }

    private let lock = NSLock()
    private var sessions: [String: JSONValue]
    private var recordedWrites: [SessionWrite] = []
    private let transport: (any PluginHTTPTransport)?
    private let kv: LocalPluginStorage

    /// Creates a host holding `sessions` (key → session JSON object).
    public init(sessions: [String: JSONValue] = [:], transport: (any PluginHTTPTransport)? = nil,
                clock: any GatewayClock = SystemClock()) {
        self.sessions = sessions
        self.transport = transport
        self.kv = LocalPluginStorage(clock: clock)
    }

    /// Every accepted `TykSetKeyData`, oldest first.
    public var writes: [SessionWrite] { lock.withLock { recordedWrites } }

    /// The stored session for `key`, if any.
    public func session(for key: String) -> JSONValue? { lock.withLock { sessions[key] } }

    public var storage: (any PluginStorage)? { kv }

    public func getKeyData(key: String, apiID: String) async throws -> String {
        guard let session = lock.withLock({ sessions[key] }) else {
            return #"{"status":"error","message":"Key not found"}"#
        }
        return session.jsonString()
    }

    private static let integerFields = ["expires", "quota_max", "quota_remaining", "quota_renews", "quota_renewal_rate",
                                        "last_check", "session_lifetime", "post_expiry_grace_period", "data_expires"]

    public func setKeyData(key: String, sessionJSON: String, suppressReset: Bool) async throws {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: sessionJSON)
        } catch {
            throw SessionWriteError.notJSON(key: key, reason: sessionJSON.count > 60 ? String(sessionJSON.prefix(60)) + "…" : sessionJSON)
        }
        guard let object = value.objectValue else {
            throw SessionWriteError.notAnObject(key: key, found: value.typeDescription)
        }
        for field in Self.integerFields {
            if let found = object[field], found != .null {
                guard case .int = found else {
                    throw SessionWriteError.notAnInteger(key: key, field: field, found: found.jsonString())
                }
            }
        }
        lock.withLock {
            sessions[key] = value
            recordedWrites.append(SessionWrite(key: key, session: value, suppressReset: suppressReset))
        }
    }

    public func send(_ request: PluginHTTPRequest) async throws -> PluginHTTPResponse {
        guard let transport else { throw LocalHostError.noTransport }
        return try await transport.send(request)
    }

    /// Errors of the local host itself.
    public enum LocalHostError: Error, CustomStringConvertible {
        /// The host was made without an HTTP transport.
        case noTransport

        public var description: String {
            "this plugin host has no HTTP transport; TykMakeHttpRequest is unavailable"
        }
    }
}

/// The in-memory store behind `TykStorage*` in ``LocalPluginHost``.
final class LocalPluginStorage: PluginStorage, @unchecked Sendable {
    private struct Entry {
        var value: String
        var expiresAt: Date?
    }

    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private let clock: any GatewayClock

    init(clock: any GatewayClock) {
        self.clock = clock
    }

    private func live(_ key: String) -> Entry? {
        guard let entry = entries[key] else { return nil }
        if let expiresAt = entry.expiresAt, expiresAt <= clock.now() {
            entries[key] = nil
            return nil
        }
        return entry
    }

    private func expiry(_ ttlSeconds: Int64) -> Date? {
        ttlSeconds > 0 ? clock.now().addingTimeInterval(TimeInterval(ttlSeconds)) : nil
    }

    func get(_ key: String) async throws -> String? { lock.withLock { live(key)?.value } }

    func set(_ key: String, value: String, ttlSeconds: Int64) async throws {
        lock.withLock { entries[key] = Entry(value: value, expiresAt: expiry(ttlSeconds)) }
    }

    func setIfAbsent(_ key: String, value: String, ttlSeconds: Int64) async throws -> Bool {
        lock.withLock {
            guard live(key) == nil else { return false }
            entries[key] = Entry(value: value, expiresAt: expiry(ttlSeconds))
            return true
        }
    }

    func delete(_ key: String) async throws -> Int {
        lock.withLock {
            guard live(key) != nil else { return 0 }
            entries[key] = nil
            return 1
        }
    }

    func ttl(_ key: String) async throws -> Int64 {
        lock.withLock {
            guard let entry = live(key) else { return -2 }
            guard let expiresAt = entry.expiresAt else { return -1 }
            return Int64(expiresAt.timeIntervalSince(clock.now()).rounded(.up))
        }
    }

    func increment(_ key: String, ttlSeconds: Int64) async throws -> Int64 {
        try lock.withLock {
            guard let entry = live(key) else {
                entries[key] = Entry(value: "1", expiresAt: expiry(ttlSeconds))
                return 1
            }
            guard let current = Int64(entry.value) else {
                throw StorageError.notAnInteger(key: key)
            }
            entries[key]?.value = String(current + 1)
            return current + 1
        }
    }

    enum StorageError: Error, CustomStringConvertible {
        case notAnInteger(key: String)

        var description: String {
            switch self {
            case .notAnInteger(let key): return "the value at '\(key)' is not an integer"
            }
        }
    }
}
