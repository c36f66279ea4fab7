import Foundation
import Logging
import NIOCore
import NIOPosix
import PortcullisCore

/// Tells every node sharing the store that a session record changed, and
/// (for plugin writes and revocations) waits until each of them confirms it
/// dropped its cached copy — so the change is visible on every node when
/// the call returns, not "soon".
///
/// Wire format (two channels):
/// - `portcullis.session.invalidate`: `<node> <nonce> <version> <stored key>`;
///   nonce `-` asks for no acknowledgement.
/// - `portcullis.session.ack`: `<nonce> <node>`.
///
/// `PUBLISH` answers how many subscriber connections received the message;
/// that is how many acknowledgements are awaited, less the writer's own
/// when the store can tell it was among them (a third channel,
/// `portcullis.session.node.<node>`, subscribed after the first and
/// dropped before it, shows whether the writer's connection was live at
/// the moment of the write): the write has already updated the writer's
/// own cache, so a node writing alone waits for no one (and a session
/// write that only the writer would receive is not published at all,
/// ``RedisScript/writeSessionAnnounced``). A node whose
/// subscription is down is not counted, and it serves nothing from its
/// cache until it has resubscribed (``SessionCache/suspend()``).
final class InvalidationBus: Sendable {
    static let invalidateChannel = "portcullis.session.invalidate"
    static let ackChannel = "portcullis.session.ack"
    /// The channel only `node`'s pub/sub connection subscribes to.
    static func nodeChannel(_ node: String) -> String { "portcullis.session.node." + node }

    private struct Waiter {
        /// The write behind the announcement puts its result into this
        /// node's cache itself (``SessionCache/announcedOwnWrite(_:version:)``).
        var updatesCache = false
        /// Acknowledgements from other nodes.
        var received = 0
        /// Whether this node's own announcement came back.
        var ownReceived = false
        /// Whether the store said this node was among the receivers, so
        /// its own announcement is not awaited; nil until the write answers.
        var writerExcluded: Bool?
        /// Acknowledgements awaited, this node's own included unless excluded.
        var needed: Int?
        var timedOut = false
        var continuation: CheckedContinuation<Int, Never>?
    }

    private struct State {
        var waiters: [String: Waiter] = [:]
        var subscriptions: [StoreSubscription] = []
        var invalidationsLive = false
        var acksLive = false
        var liveWaiters: [CheckedContinuation<Void, Never>] = []
        /// Announcements this node has numbered so far.
        var announced: UInt64 = 0
    }

    /// Random per bus, so two nodes' nonces never meet on the shared ack
    /// channel; each announcement adds its own number to it.
    private let noncePrefix = String(UInt64.random(in: .min ... .max), radix: 36) + "."

    private let store: any SessionStore
    private let nodeID: String
    private let ownChannel: String
    private let timeout: Double
    private let logger: Logger
    private let cache: SessionCache?
    private let state = Locked(State())

    init(store: any SessionStore, nodeID: String, timeout: Double, cache: SessionCache?, logger: Logger) {
        self.store = store
        self.nodeID = nodeID
        self.ownChannel = Self.nodeChannel(nodeID)
        self.timeout = timeout
        self.cache = cache
        self.logger = logger
    }

    /// Subscribes to both channels; returns when both are live or after the
    /// timeout (the cache stays bypassed until they are).
    func start() async throws {
        let invalidations = try await store.subscribe(channel: Self.invalidateChannel) { [self] event in
            handleInvalidation(event)
        }
        let acks = try await store.subscribe(channel: Self.ackChannel) { [self] event in
            handleAck(event)
        }
        // Subscribed after the invalidation channel and cancelled before it,
        // so while it is live the invalidation subscription is live too.
        let own = try await store.subscribe(channel: ownChannel) { _ in }
        state.withLock { s in s.subscriptions += [own, invalidations, acks] }
        await waitUntilLive()
    }

    /// Cancels the subscriptions.
    func stop() {
        let (subscriptions, waiters) = state.withLock { s -> ([StoreSubscription], [CheckedContinuation<Void, Never>]) in
            defer { s.subscriptions = []; s.liveWaiters = [] }
            return (s.subscriptions, s.liveWaiters)
        }
        for subscription in subscriptions { subscription.cancel() }
        for waiter in waiters { waiter.resume() }
    }

    /// Whether both subscriptions are live.
    var isLive: Bool {
        state.withLock { s in s.invalidationsLive && s.acksLive }
    }

    /// Announces that `storageKey` changed at `version`. With
    /// `acknowledged`, waits until every subscribed node confirmed and
    /// returns (confirmed, expected); otherwise returns at once.
    func announce(storageKey: String, version: UInt64, acknowledged: Bool) async throws -> (Int, Int) {
        let pending = prepare(acknowledged: acknowledged)
        let expected: Int
        do {
            expected = try await store.publish(channel: Self.invalidateChannel, message: "\(pending.prefix) \(version) \(storageKey)")
        } catch {
            cancel(pending)
            throw error
        }
        return await confirmations(of: pending, expected: expected)
    }

    /// An announcement whose message is about to leave (with a write, or
    /// by ``announce(storageKey:version:acknowledged:)``): its nonce is
    /// registered first, so an acknowledgement that arrives early counts.
    struct Pending {
        fileprivate let nonce: String
        /// What precedes `<version> <key>` in the message.
        let prefix: String
        fileprivate let ownChannel: String
        var announcement: SessionAnnouncement {
            SessionAnnouncement(channel: InvalidationBus.invalidateChannel, prefix: prefix, ownChannel: ownChannel)
        }
    }

    /// `updatesCache`: the write will put its result into this node's
    /// cache before it returns (a session write), so its own announcement
    /// need not drop the entry (``SessionCache/announcedOwnWrite(_:version:)``).
    func prepare(acknowledged: Bool = true, updatesCache: Bool = false) -> Pending {
        guard acknowledged else { return Pending(nonce: "-", prefix: nodeID + " -", ownChannel: ownChannel) }
        // A counter, not a UUID: generating random bytes per write cost
        // more than the rest of preparing it.
        let nonce = state.withLock { s -> String in
            s.announced &+= 1
            let nonce = noncePrefix + String(s.announced, radix: 36)
            s.waiters[nonce] = Waiter(updatesCache: updatesCache)
            return nonce
        }
        return Pending(nonce: nonce, prefix: nodeID + " " + nonce, ownChannel: ownChannel)
    }

    /// The message never left (the write failed or was a conflict).
    func cancel(_ pending: Pending) {
        _ = state.withLock { s in s.waiters.removeValue(forKey: pending.nonce) }
    }

    /// Waits until the `expected` subscribers confirmed (or the timeout);
    /// returns (confirmed, expected).
    func confirmations(of pending: Pending, expected: Int) async -> (Int, Int) {
        await confirmations(of: pending, receipt: AnnouncementReceipt(receivers: expected))
    }

    /// Waits until every receiver in `receipt` confirmed (or the timeout),
    /// the writer itself excepted when it is known to be one; returns
    /// (confirmed, expected), the writer counted as confirmed.
    func confirmations(of pending: Pending, receipt: AnnouncementReceipt) async -> (Int, Int) {
        let expected = receipt.receivers
        guard awaitsConfirmations(of: pending, receipt: receipt) else { return (expected, expected) }
        let received = await waitForAcks(nonce: pending.nonce, needed: expected, writerExcluded: receipt.includesWriter)
        return (received, expected)
    }

    /// What a waiter has, counted against `needed`.
    private static func confirmedCount(_ waiter: Waiter) -> Int {
        waiter.writerExcluded == true ? waiter.received + 1 : waiter.received + (waiter.ownReceived ? 1 : 0)
    }

    /// Whether ``confirmations(of:receipt:)`` would wait for other nodes;
    /// when not, the write is already confirmed and `pending` is done with.
    func awaitsConfirmations(of pending: Pending, receipt: AnnouncementReceipt) -> Bool {
        guard pending.nonce != "-" else { return false }
        // Nobody, or only this node, received it: nothing to wait for.
        guard receipt.receivers <= (receipt.includesWriter ? 1 : 0) else { return true }
        cancel(pending)
        return false
    }

    private func waitForAcks(nonce: String, needed: Int, writerExcluded: Bool) async -> Int {
        // A timer on the caller's own event loop (or any of NIO's), not a
        // task: arming and cancelling it wakes no other thread.
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? MultiThreadedEventLoopGroup.singleton.next()
        let timer = loop.scheduleTask(in: .nanoseconds(Int64(timeout * 1_000_000_000))) { [self] in
            finish(nonce)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Int, Never>) in
            let done = state.withLock { s -> Int? in
                guard var waiter = s.waiters[nonce] else { return 0 }
                waiter.writerExcluded = writerExcluded
                if Self.confirmedCount(waiter) >= needed || waiter.timedOut {
                    s.waiters.removeValue(forKey: nonce)
                    return Self.confirmedCount(waiter)
                }
                waiter.needed = needed
                waiter.continuation = continuation
                s.waiters[nonce] = waiter
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// Resumes the waiter for `nonce` with whatever arrived (timeout path).
    private func finish(_ nonce: String) {
        let resume = state.withLock { s -> (CheckedContinuation<Int, Never>, Int)? in
            guard var waiter = s.waiters[nonce] else { return nil }
            guard let continuation = waiter.continuation else {
                waiter.timedOut = true
                s.waiters[nonce] = waiter
                return nil
            }
            s.waiters.removeValue(forKey: nonce)
            return (continuation, Self.confirmedCount(waiter))
        }
        if let (continuation, received) = resume { continuation.resume(returning: received) }
    }

    private func handleInvalidation(_ event: SubscriptionEvent) {
        switch event {
        case .subscribed:
            cache?.resume()
            setLive(invalidations: true)
        case .lost(let reason):
            cache?.suspend()
            setLive(invalidations: false)
            logger.warning("session invalidation subscription lost (\(reason)); serving sessions from the store only")
        case .message(let text):
            let parts = text.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count == 4, let version = UInt64(parts[2]) else {
                logger.warning("ignoring malformed session invalidation message")
                return
            }
            let nonce = String(parts[1])
            let storageKey = String(parts[3])
            let own = parts[0] == Substring(nodeID)
            // Decided under the bus's lock: a failing write cancels its
            // waiter before it ends its cache ticket, so either the entry
            // is dropped here or the write's end drops it.
            let kept = own && state.withLock { s -> Bool in
                guard let waiter = s.waiters[nonce], waiter.updatesCache else { return false }
                cache?.announcedOwnWrite(storageKey, version: version)
                return true
            }
            if !kept { cache?.invalidate(storageKey, version: version) }
            guard nonce != "-" else { return }
            // This node's own announcement: receiving it proves this
            // subscription was live and counted, so it is this node's
            // acknowledgement, without a second publish round trip.
            if own {
                countAck(nonce, own: true)
                return
            }
            let reply = "\(nonce) \(nodeID)"
            // Sent from an event loop (this one, or any of NIO's), never from
            // the cooperative pool, which a busy process may not run for a while.
            let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? MultiThreadedEventLoopGroup.singleton.next()
            Task(executorPreference: EventLoopTaskExecutor(eventLoop: loop)) { [store, logger] in
                do {
                    _ = try await store.publish(channel: Self.ackChannel, message: reply)
                } catch {
                    logger.warning("could not acknowledge a session invalidation: \(error)")
                }
            }
        }
    }

    private func handleAck(_ event: SubscriptionEvent) {
        switch event {
        case .subscribed:
            setLive(acks: true)
        case .lost:
            setLive(acks: false)
        case .message(let text):
            guard let nonce = text.split(separator: " ").first.map(String.init) else { return }
            countAck(nonce)
        }
    }

    /// One node confirmed the announcement `nonce`; `own`: this node, by
    /// receiving its own announcement.
    private func countAck(_ nonce: String, own: Bool = false) {
        let resume = state.withLock { s -> (CheckedContinuation<Int, Never>, Int)? in
            guard var waiter = s.waiters[nonce] else { return nil }
            if own { waiter.ownReceived = true } else { waiter.received += 1 }
            if let needed = waiter.needed, Self.confirmedCount(waiter) >= needed, let continuation = waiter.continuation {
                s.waiters.removeValue(forKey: nonce)
                return (continuation, Self.confirmedCount(waiter))
            }
            s.waiters[nonce] = waiter
            return nil
        }
        if let (continuation, received) = resume { continuation.resume(returning: received) }
    }

    private func setLive(invalidations: Bool? = nil, acks: Bool? = nil) {
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            if let invalidations { s.invalidationsLive = invalidations }
            if let acks { s.acksLive = acks }
            guard s.invalidationsLive && s.acksLive else { return [] }
            defer { s.liveWaiters = [] }
            return s.liveWaiters
        }
        for waiter in ready { waiter.resume() }
    }

    /// Waits until both subscriptions are live, at most the timeout.
    func waitUntilLive() async {
        let deadline = timeout
        let timer = Task { [self] in
            try? await Task.sleep(nanoseconds: UInt64(deadline * 1_000_000_000))
            let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
                defer { s.liveWaiters = [] }
                return s.liveWaiters
            }
            for waiter in waiters { waiter.resume() }
        }
        defer { timer.cancel() }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let live = state.withLock { s -> Bool in
                if s.invalidationsLive && s.acksLive { return true }
                s.liveWaiters.append(continuation)
                return false
            }
            if live { continuation.resume() }
        }
    }
}
