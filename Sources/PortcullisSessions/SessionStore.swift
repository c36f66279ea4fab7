/// Where sessions, counters and plugin key-value data live, shared by every
/// gateway node that uses the same store. Keys are the store's own (already
/// prefixed: `apikey-…`, `quota-…`, `jsvm-store:…`); see ``KeyNaming`` and
/// ``PluginKeyValueStore``.
///
/// Every method either completes within the store's timeout or throws a
/// ``SessionStoreError``; none hangs and none crashes on a bad reply.
public protocol SessionStore: Sendable {
    /// The session record at `key`, or nil when there is none (deleted or
    /// its lifetime ran out).
    func readSession(key: String) async throws -> StoredSession?

    /// Stores session JSON `body` at `key` under a fresh version.
    /// `ttlSeconds` > 0 sets the physical lifetime; 0 or less keeps it
    /// forever (and clears an earlier TTL). Returns only after the store
    /// acknowledged the write.
    func writeSession(key: String, body: String, ttlSeconds: Int64, condition: SessionWriteCondition) async throws -> SessionWriteOutcome

    /// ``writeSession(key:body:ttlSeconds:condition:)`` that also deletes
    /// the keys `deleting` (a quota counter being reset) when the write
    /// goes ahead; a store that can do both in one round trip does.
    func writeSession(key: String, body: String, ttlSeconds: Int64, condition: SessionWriteCondition,
                      deleting: [String]) async throws -> SessionWriteOutcome

    /// Deletes the session record at `key`, consuming a version.
    func deleteSession(key: String) async throws -> SessionDeleteOutcome

    /// Every live key that starts with `prefix`, in no particular order;
    /// for bulk revocation. Redis walks the keyspace with `SCAN`, so a
    /// large store is read in pages and never blocks the server.
    func keys(withPrefix prefix: String) async throws -> [String]

    /// The string at `key`, or nil when missing or expired.
    func value(forKey key: String) async throws -> String?

    /// Stores a string; `ttlSeconds` 0 or less means no expiry.
    func setValue(_ value: String, forKey key: String, ttlSeconds: Int64) async throws

    /// Stores only when `key` is absent; true when this call stored it.
    func setValueIfAbsent(_ value: String, forKey key: String, ttlSeconds: Int64) async throws -> Bool

    /// Deletes `key`; the number of keys removed (0 or 1).
    func deleteValue(forKey key: String) async throws -> Int

    /// Remaining lifetime in seconds: -1 no expiry, -2 missing (Redis semantics).
    func timeToLive(forKey key: String) async throws -> Int64

    /// Atomically adds one and returns the new value. `ttlSecondsOnCreate`
    /// (> 0) applies when the counter is created; with `repairMissingTTL`
    /// it is also applied to an existing counter that has no TTL, so a
    /// quota window can never be stuck open-ended.
    func increment(key: String, ttlSecondsOnCreate: Int64, repairMissingTTL: Bool) async throws -> Int64

    /// Sends `message` to every subscriber of `channel`; returns how many
    /// subscriber connections received it (this node's own included).
    func publish(channel: String, message: String) async throws -> Int

    /// Starts delivering `channel`'s messages and the subscription's state to
    /// `handler`. Returns at once; ``SubscriptionEvent/subscribed`` arrives
    /// when the subscription is live, ``SubscriptionEvent/lost(reason:)``
    /// when it drops (after which the store resubscribes by itself).
    func subscribe(channel: String, handler: @escaping @Sendable (SubscriptionEvent) -> Void) async throws -> StoreSubscription

    /// Closes connections and stops background work.
    func shutdown() async
}

/// What a subscription reports.
public enum SubscriptionEvent: Sendable, Equatable {
    /// The subscription is live: every message published from now on arrives.
    case subscribed
    /// The subscription dropped; messages may be missed until `subscribed` again.
    case lost(reason: String)
    /// A message published on the channel.
    case message(String)
}

/// A live subscription; cancel it to stop receiving.
public final class StoreSubscription: Sendable {
    private let onCancel: @Sendable () -> Void

    /// Creates a subscription whose `cancel()` runs `onCancel`.
    public init(onCancel: @escaping @Sendable () -> Void) {
        self.onCancel = onCancel
    }

    /// Stops delivery.
    public func cancel() {
        onCancel()
    }
}

/// An answer that is either at hand now or needs the caller to wait for it.
public enum ImmediateResult<Value> {
    /// The answer, without I/O.
    case ready(Value)
    /// Only the `async` call can answer.
    case mustWait
}

extension ImmediateResult: Sendable where Value: Sendable {}

/// A store that can answer reads in-process, without I/O, so a JS worker
/// serving `TykGetKeyData` keeps its thread instead of handing the read
/// to another one and waiting for it.
public protocol ImmediateSessionReads: SessionStore {
    /// The record at `key` (nil when there is none), or ``ImmediateResult/mustWait``.
    func readSessionImmediately(key: String) throws -> ImmediateResult<StoredSession?>
}

/// A store that can make an announced session write on the calling thread
/// when that needs no waiting — an in-process store, or a Redis connection
/// this very thread may block on — so a JS worker's `TykSetKeyData`
/// costs no task, executor or hand-over of its own.
public protocol ImmediateSessionWrites: AnnouncingSessionWrites {
    /// Whether ``writeSessionImmediately(key:body:ttlSeconds:condition:deleting:announcing:)``
    /// can write on the calling thread at all; when not, a caller need not
    /// prepare a write only to be told to wait.
    var writesOnCallingThread: Bool { get }

    /// ``AnnouncingSessionWrites/writeSession(key:body:ttlSeconds:condition:deleting:announcing:)``
    /// done here and now, or ``ImmediateResult/mustWait`` having written nothing.
    func writeSessionImmediately(key: String, body: String, ttlSeconds: Int64, condition: SessionWriteCondition,
                                 deleting: [String], announcing announcement: SessionAnnouncement) throws
        -> ImmediateResult<(SessionWriteOutcome, AnnouncementReceipt)>
}

/// The invalidation a session write announces: `"<prefix> <version> <key>"`
/// on `channel`, with the version the write itself took.
public struct SessionAnnouncement: Sendable {
    /// The pub/sub channel.
    public var channel: String
    /// What precedes the version in the message (the node and the nonce).
    public var prefix: String
    /// A channel only the writing node's pub/sub connection subscribes to,
    /// and only while it is subscribed to `channel`: the store reports
    /// whether the writer itself was among the receivers.
    public var ownChannel: String? = nil
}

/// What an announcing write reports about who received its invalidation.
public struct AnnouncementReceipt: Sendable, Equatable {
    /// How many subscriber connections received the message.
    public var receivers: Int
    /// Whether the writing node's own connection is one of them: it needs
    /// no acknowledgement, since the write updates that node's cache itself.
    public var includesWriter: Bool

    /// A receipt; `includesWriter` only when the store could tell.
    public init(receivers: Int, includesWriter: Bool = false) {
        self.receivers = receivers
        self.includesWriter = includesWriter
    }
}

/// A store that publishes a write's invalidation in the same step as the
/// write (one round trip instead of two), after the record is stored.
public protocol AnnouncingSessionWrites: SessionStore {
    /// ``SessionStore/writeSession(key:body:ttlSeconds:condition:deleting:)``
    /// that, when the write happens, publishes `announcement` with the new
    /// version and returns who received it (no one on a conflict).
    func writeSession(key: String, body: String, ttlSeconds: Int64, condition: SessionWriteCondition,
                      deleting: [String], announcing announcement: SessionAnnouncement) async throws -> (SessionWriteOutcome, AnnouncementReceipt)
}

extension SessionStore {
    /// Deletes first, then writes: two steps, for stores without a combined one.
    public func writeSession(key: String, body: String, ttlSeconds: Int64, condition: SessionWriteCondition,
                             deleting: [String]) async throws -> SessionWriteOutcome {
        for name in deleting { _ = try await deleteValue(forKey: name) }
        return try await writeSession(key: key, body: body, ttlSeconds: ttlSeconds, condition: condition)
    }
}
