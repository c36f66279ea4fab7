import Dispatch
import Testing
@testable import PortcullisJS

@Suite("Worker activity")
struct WorkerActivityTests {
    /// A worker that has finished `count` calls of `nanoseconds` each and
    /// now holds `held` calls (at least one), the first of them running
    /// since `now`.
    static func worker(finished count: Int, taking nanoseconds: UInt64, holding held: Int, now: UInt64) -> WorkerActivity {
        let activity = WorkerActivity()
        var clock: UInt64 = 1_000
        for _ in 0..<count {
            activity.callQueued()
            activity.callStarted(now: clock)
            clock += nanoseconds
            activity.callFinished(now: clock)
        }
        for _ in 0..<held { activity.callQueued() }
        activity.callStarted(now: now)
        return activity
    }

    @Test("A worker running short calls takes on up to maxFollowers calls")
    func shortCallsPack() {
        let now: UInt64 = 10_000_000_000
        let short = Self.worker(finished: 64, taking: 20_000, holding: WorkerActivity.maxFollowers, now: now)
        #expect(short.averageCallNanoseconds > 18_000 && short.averageCallNanoseconds <= 20_000)
        #expect(short.acceptsFollower(now: now + 1_000))
        short.callQueued()
        #expect(!short.acceptsFollower(now: now + 1_000), "more than maxFollowers calls are never joined")
    }

    @Test("A worker whose calls take long takes on only `followers` calls, as before")
    func longCallsSpread() {
        let now: UInt64 = 10_000_000_000
        let slow = Self.worker(finished: 64, taking: 1_000_000, holding: WorkerActivity.followers, now: now)
        #expect(slow.acceptsFollower(now: now + 1_000))
        slow.callQueued()
        #expect(!slow.acceptsFollower(now: now + 1_000), "five 1 ms calls are past the budget")
        // Short calls bring the average down again, and with it the limit.
        let recovering = Self.worker(finished: 64, taking: 1_000_000, holding: 1, now: now)
        var clock = now
        for _ in 0..<40 {
            recovering.callFinished(now: clock + 20_000)
            clock += 20_000
            recovering.callQueued()
            recovering.callStarted(now: clock)
        }
        for _ in 0..<8 { recovering.callQueued() }
        #expect(recovering.averageCallNanoseconds < 50_000)
        #expect(recovering.acceptsFollower(now: clock + 1_000))
    }

    @Test("A worker whose recent call waited on I/O takes on only `followers` calls until enough calls ran without waiting")
    func recentWaitSpreads() {
        let now: UInt64 = 10_000_000_000
        let worker = Self.worker(finished: 64, taking: 20_000, holding: 1, now: now)
        worker.enterWait(.store)
        worker.leaveWait(.store)
        for _ in 1..<WorkerActivity.followers { worker.callQueued() }
        #expect(worker.acceptsFollower(now: now + 1_000), "up to `followers` calls as before")
        worker.callQueued()
        #expect(!worker.acceptsFollower(now: now + 1_000), "not more: the running call waited on I/O")
        // Calls that finish without waiting lift the cap again.
        var clock = now
        for _ in 0..<WorkerActivity.callsWithoutWait {
            worker.callFinished(now: clock + 20_000)
            clock += 20_000
            worker.callQueued()
            worker.callStarted(now: clock)
        }
        #expect(worker.acceptsFollower(now: clock + 1_000))
    }

    @Test("Idle, blocked and long-running workers take on no followers")
    func notJoined() {
        let now: UInt64 = 10_000_000_000
        #expect(!WorkerActivity().acceptsFollower(now: now), "an idle worker is woken, not joined")
        let blocked = Self.worker(finished: 8, taking: 20_000, holding: 1, now: now)
        for wait in [WorkerActivity.Wait.store, .outbound] {
            blocked.enterWait(wait)
            #expect(!blocked.acceptsFollower(now: now + 1_000), "blocked on \(wait)")
            blocked.leaveWait(wait)
            #expect(blocked.acceptsFollower(now: now + 1_000))
        }
        #expect(!blocked.acceptsFollower(now: now + WorkerActivity.shortCall + 1), "the running call is past shortCall")
    }

    @Test("Only a wait on an outbound call counts towards starting another worker; a store wait does not")
    func onlyOutboundWaitsAreTimed() async throws {
        let worker = Self.worker(finished: 8, taking: 20_000, holding: 1, now: 10_000_000_000)
        worker.enterWait(.store)
        try await Task.sleep(for: .milliseconds(5))
        #expect(worker.isWaiting)
        #expect(worker.waitedFor(now: DispatchTime.now().uptimeNanoseconds) == 0, "a store wait is never timed")
        // An HTTP call made while a store call is still open (nested waits) is timed from its own start.
        worker.enterWait(.outbound)
        try await Task.sleep(for: .milliseconds(5))
        #expect(worker.waitedFor(now: DispatchTime.now().uptimeNanoseconds) >= 4_000_000)
        worker.leaveWait(.outbound)
        #expect(worker.waitedFor(now: DispatchTime.now().uptimeNanoseconds) == 0)
        #expect(worker.isWaiting, "the store wait is still open")
        worker.leaveWait(.store)
        #expect(!worker.isWaiting)
    }
}
