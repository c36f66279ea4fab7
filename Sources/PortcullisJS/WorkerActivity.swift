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
final class WorkerActivity: Sendable {
    private let held = Atomic<Int>(0)
    private let waits = Atomic<Int>(0)
    /// Uptime in nanoseconds when the running call began; 0 between calls.
    private let runningSince = Atomic<UInt64>(0)
    /// Uptime in nanoseconds when the running call began to wait on I/O; 0 when it does not.
    private let waitingSince = Atomic<UInt64>(0)
    private let started = Atomic<Int>(0)
    private let timeouts = Atomic<Int>(0)

    /// How long a running call may have run for a new call to queue behind it.
    static let shortCall: UInt64 = 2_000_000

    init() {}

    /// Most calls a worker may hold for a new call to join it rather than
    /// wake an idle worker.
    static let followers = 4

    /// Whether a call queued now would wait only for a few short calls.
    func acceptsFollower(now: UInt64) -> Bool {
        let held = calls
        guard held > 0, held <= Self.followers, !isWaiting else { return false }
        let since = runningSince.load(ordering: .relaxed)
        return since == 0 || now &- since < Self.shortCall
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
    func callStarted() {
        started.add(1, ordering: .relaxed)
        runningSince.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
    }
    func callTimedOut() { timeouts.add(1, ordering: .relaxed) }
    func callFinished() {
        runningSince.store(0, ordering: .relaxed)
        held.subtract(1, ordering: .relaxed)
    }
    func enterWait() {
        if waits.add(1, ordering: .relaxed).newValue == 1 {
            waitingSince.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
        }
    }
    func leaveWait() {
        if waits.subtract(1, ordering: .relaxed).newValue == 0 { waitingSince.store(0, ordering: .relaxed) }
    }

    /// How long the running call has been blocked on I/O, in nanoseconds
    /// (0 when it is not).
    func waitedFor(now: UInt64) -> UInt64 {
        let since = waitingSince.load(ordering: .relaxed)
        return since == 0 || now < since ? 0 : now - since
    }
}
