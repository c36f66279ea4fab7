import Dispatch
import Synchronization

/// What one worker thread is doing, read without a lock by the engine when
/// it picks a worker for a call: how many calls it holds (queued or
/// running) and whether the running one is blocked on I/O.
///
/// The engine packs calls onto awake workers instead of spreading them
/// over idle ones: waking a sleeping thread costs two futex calls and two
/// context switches, more than a short JS call itself on a busy machine.
/// A worker blocked on a store round trip or an HTTP call is skipped, so
/// I/O in one plugin never holds up another request's JS, and neither
/// does a call that has been running for longer than ``shortCall``.
///
/// How many calls a worker takes on depends on how long its calls run:
/// a few whatever they take, more while those queued ahead of a new call
/// are expected to finish within ``followBudget`` and none of its recent
/// calls waited on I/O. A worker running 20 µs plugin calls thus drains a
/// burst of 16 in one wake-up; one whose calls take a millisecond, or
/// sometimes wait on a store or an HTTP call (which would hold up every
/// call queued behind them), takes on only a few before another is woken.
final class WorkerActivity: Sendable {
    private let held = Atomic<Int>(0)
    private let waits = Atomic<Int>(0)
    /// Uptime in nanoseconds when the running call began; 0 between calls.
    private let runningSince = Atomic<UInt64>(0)
    private let outboundWaits = Atomic<Int>(0)
    /// Uptime in nanoseconds when the running call began to wait on an
    /// outbound call; 0 when it does not.
    private let waitingSince = Atomic<UInt64>(0)
    private let started = Atomic<Int>(0)
    private let timeouts = Atomic<Int>(0)
    private let collections = Atomic<Int>(0)
    /// Moving average of this worker's recent call times (about the last
    /// eight calls), in nanoseconds; written only by the worker's thread.
    private let averageCall = Atomic<UInt64>(0)
    /// ``callsStarted`` when a call last began to wait on I/O.
    private let lastWaitingCall = Atomic<Int>(-WorkerActivity.callsWithoutWait)

    /// How long a running call may have run for a new call to queue behind it.
    static let shortCall: UInt64 = 2_000_000

    init() {}

    /// Calls a worker may hold for a new call to join it rather than wake
    /// an idle worker, however long its calls take.
    static let followers = 4

    /// Most calls a worker may hold for a new call to join it, when its
    /// calls are short (see ``followBudget``). On the forum benchmark, 16
    /// rather than 4 took the context switches per request from 1.15 to
    /// 0.92 and CPU per request down 8%, with a lower p99; 32 did no better.
    static let maxFollowers = 16

    /// How long, in nanoseconds, the calls held by a worker may be expected
    /// to run for a new call to join them beyond ``followers``.
    static let followBudget: UInt64 = 400_000

    /// Calls that must have started since the last one that waited on I/O
    /// for a worker to take on more than ``followers`` calls.
    static let callsWithoutWait = 64

    /// Whether a call queued now would wait only for a few short calls.
    func acceptsFollower(now: UInt64) -> Bool {
        let held = calls
        guard held > 0, held <= Self.maxFollowers, !isWaiting else { return false }
        if held > Self.followers && (UInt64(held) &* averageCallNanoseconds > Self.followBudget
                                     || callsStarted - lastWaitingCall.load(ordering: .relaxed) < Self.callsWithoutWait) {
            return false
        }
        let since = runningSince.load(ordering: .relaxed)
        return since == 0 || now &- since < Self.shortCall
    }

    /// The moving average of the worker's recent call times, in nanoseconds.
    var averageCallNanoseconds: UInt64 { averageCall.load(ordering: .relaxed) }

    /// Full collections of the worker's heaps so far.
    var heapCollections: Int { collections.load(ordering: .relaxed) }

    /// Counts a full collection of one of the worker's heaps.
    func heapCollected() {
        collections.add(1, ordering: .relaxed)
    }

    /// Calls queued or running on the worker.
    var calls: Int { held.load(ordering: .relaxed) }

    /// Whether the running call waits on I/O.
    var isWaiting: Bool { waits.load(ordering: .relaxed) > 0 }

    /// Calls the worker has started since it began.
    var callsStarted: Int { started.load(ordering: .relaxed) }

    /// Calls stopped for running past the time limit.
    var callsTimedOut: Int { timeouts.load(ordering: .relaxed) }

    func callQueued() { held.add(1, ordering: .relaxed) }
    /// A queued call was taken over by another worker (``JSWorker``).
    func callHandedOver() { held.subtract(1, ordering: .relaxed) }
    /// A call began at `now` (uptime in nanoseconds).
    func callStarted(now: UInt64) {
        started.add(1, ordering: .relaxed)
        runningSince.store(now, ordering: .relaxed)
    }
    func callTimedOut() { timeouts.add(1, ordering: .relaxed) }
    /// A call starts inside the running one (``JSWorker``): returns the
    /// running one's start, for ``resumeRunning(since:)`` when it is done.
    func suspendRunning() -> UInt64 { runningSince.load(ordering: .relaxed) }
    /// The call that was running before the nested one goes on.
    func resumeRunning(since: UInt64) { runningSince.store(since, ordering: .relaxed) }
    /// The running call ended at `now`; its time goes into the average.
    func callFinished(now: UInt64) {
        let since = runningSince.load(ordering: .relaxed)
        if since != 0 && now >= since {
            let average = averageCall.load(ordering: .relaxed)
            averageCall.store(average - average / 8 + (now - since) / 8, ordering: .relaxed)
        }
        runningSince.store(0, ordering: .relaxed)
        held.subtract(1, ordering: .relaxed)
    }
    /// What a blocked call waits on.
    enum Wait {
        /// A session store or plugin storage round trip: short by nature;
        /// a long one means the store or the machine is overloaded, which
        /// more threads would only make worse.
        case store
        /// An HTTP call the plugin makes (`TykMakeHttpRequest`,
        /// `TykBatchRequest`, `fetch`): as long as the service it calls
        /// takes, which says nothing about this machine's load.
        case outbound
    }

    /// The running call begins to wait on `wait`.
    func enterWait(_ wait: Wait) {
        lastWaitingCall.store(callsStarted, ordering: .relaxed)
        waits.add(1, ordering: .relaxed)
        if wait == .outbound, outboundWaits.add(1, ordering: .relaxed).newValue == 1 {
            waitingSince.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
        }
    }
    /// The wait begun by ``enterWait(_:)`` with the same `wait` has ended.
    func leaveWait(_ wait: Wait) {
        waits.subtract(1, ordering: .relaxed)
        if wait == .outbound, outboundWaits.subtract(1, ordering: .relaxed).newValue == 0 {
            waitingSince.store(0, ordering: .relaxed)
        }
    }

    /// How long the running call has been blocked on an outbound call, in
    /// nanoseconds (0 when it is not, or waits on the store).
    func waitedFor(now: UInt64) -> UInt64 {
        let since = waitingSince.load(ordering: .relaxed)
        return since == 0 || now < since ? 0 : now - since
    }
}
