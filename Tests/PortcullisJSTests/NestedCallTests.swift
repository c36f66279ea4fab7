import Foundation
import Logging
import PortcullisCore
import Testing
@testable import PortcullisJS

/// A host whose `TykSetKeyData` write waits as a write on a worker's own
/// Redis connection does when the reply is late: it offers the wait to the
/// worker (`BlockingThread.offerWaitingTime()`) and notes what ran meanwhile.
private final class LateReplyHost: PluginHost, @unchecked Sendable {
    let entered = DispatchSemaphore(value: 0)
    let proceed = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var noted: [String] = []
    private let name: String
    private let offers: Bool
    private let journal: LateReplyHost?

    init(name: String, offers: Bool, journal: LateReplyHost? = nil) {
        self.name = name
        self.offers = offers
        self.journal = journal
    }

    var notes: [String] { lock.withLock { noted } }

    func note(_ line: String) {
        if let journal { journal.note(line) } else { lock.withLock { noted.append(line) } }
    }

    func getKeyData(key: String, apiID: String) async throws -> String { "{}" }

    func setKeyDataImmediately(key: String, sessionJSON: String, suppressReset: Bool) throws -> ImmediateKeyWrite {
        guard offers else {
            note("\(name) wrote")
            return .done
        }
        entered.signal()
        proceed.wait()
        note("\(name) waits")
        BlockingThread.offerWaitingTime()
        note("\(name) has its reply")
        return .done
    }

    func setKeyData(key: String, sessionJSON: String, suppressReset: Bool) async throws {
        note("\(name) wrote through the bridge")
    }

    func send(_ request: PluginHTTPRequest) async throws -> PluginHTTPResponse {
        PluginHTTPResponse(status: 200)
    }
}

/// Waits for `semaphore` off the cooperative pool.
private func wait(_ semaphore: DispatchSemaphore) async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        DispatchQueue.global().async {
            semaphore.wait()
            continuation.resume()
        }
    }
}

/// Waits (up to a second) until the engine holds `calls` calls, queued or running.
private func waitUntilHeld(_ engine: JSEngine, _ calls: Int) async throws {
    for _ in 0..<500 where engine.statistics.queuedOrRunning != calls {
        try await Task.sleep(nanoseconds: 2_000_000)
    }
    #expect(engine.statistics.queuedOrRunning == calls)
}

/// Runs call "first", whose write waits for a late reply, and queues call
/// "second" behind it on the same worker before the reply comes; returns
/// both outcomes and what the hosts noted, in order.
private func firstWaitsWhileSecondIsQueued(_ engine: JSEngine) async throws -> (MiddlewareOutcome, MiddlewareOutcome, [String]) {
    let first = LateReplyHost(name: "first", offers: true)
    let second = LateReplyHost(name: "second", offers: false, journal: first)
    async let firstOutcome = engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(headers: ["Who": ["first"]]),
                                                  spec: Fixtures.spec, host: first)
    await wait(first.entered)
    async let secondOutcome = engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(headers: ["Who": ["second"]]),
                                                   spec: Fixtures.spec, host: second)
    try await waitUntilHeld(engine, 2)
    first.proceed.signal()
    let (one, two) = try await (firstOutcome, secondOutcome)
    return (one, two, first.notes)
}

@Suite("Calls run inside a call that waits on the store")
struct NestedCallTests {
    @Test("While a call waits for its store reply, its worker runs the next queued call, on realms of its own")
    func nextCallRunsWhileOneWaits() async throws {
        let engine = try await Fixtures.engine(["mw.js": """
            var calls = 0;
            var mw = new TykJS.TykMiddleware.NewMiddleware({});
            mw.NewProcessRequest(function (request, session, config) {
                calls += 1;
                TykSetKeyData("key-" + request.Headers["Who"][0], "{}");
                request.SetHeaders["Calls-Seen"] = String(calls);
                return mw.ReturnData(request, {});
            });
            """], workers: 1, nestedCalls: true)
        let (one, two, notes) = try await firstWaitsWhileSecondIsQueued(engine)
        #expect(notes == ["first waits", "second wrote", "first has its reply"],
                "the second call ran while the first waited, not after it")
        // Each level has its own global object: neither call saw the other's count.
        #expect(one.request.setHeaders["Calls-Seen"] == "1")
        #expect(two.request.setHeaders["Calls-Seen"] == "1")
        // Back on the worker's own level, the first realm's count goes on.
        let third = LateReplyHost(name: "third", offers: false)
        let three = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(headers: ["Who": ["third"]]),
                                                   spec: Fixtures.spec, host: third)
        #expect(three.request.setHeaders["Calls-Seen"] == "2")
        // The calls run nested were counted as finished, as the others were.
        try await waitUntilHeld(engine, 0)
        engine.shutdown()
    }

    @Test("A call that ran nested inside a waiting one does not use up the waiting call's time limit")
    func nestedTimeIsGivenBack() async throws {
        let engine = try await Fixtures.engine(["mw.js": """
            var mw = new TykJS.TykMiddleware.NewMiddleware({});
            mw.NewProcessRequest(function (request, session, config) {
                if (request.Headers["Who"][0] === "runaway") { while (true) {} }
                TykSetKeyData("key", "{}");
                // A loop, so the watchdog is consulted after the write returns.
                var sum = 0;
                for (var i = 0; i < 10000; i++) { sum += i; }
                request.SetHeaders["Sum"] = String(sum);
                return mw.ReturnData(request, {});
            });
            """], timeout: 0.3, workers: 1, nestedCalls: true)
        let first = LateReplyHost(name: "first", offers: true)
        async let firstOutcome = engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(headers: ["Who": ["first"]]),
                                                      spec: Fixtures.spec, host: first)
        await wait(first.entered)
        async let runaway = engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(headers: ["Who": ["runaway"]]),
                                                 spec: Fixtures.spec, host: LateReplyHost(name: "runaway", offers: false))
        try await waitUntilHeld(engine, 2)
        first.proceed.signal()
        let stopped: PluginError?
        do {
            _ = try await runaway
            stopped = nil
        } catch {
            stopped = error as? PluginError
        }
        #expect(stopped != nil && "\(stopped.map { "\($0)" } ?? "")".contains("time"), "the runaway call was stopped: \(String(describing: stopped))")
        let one = try await firstOutcome
        #expect(one.request.setHeaders["Sum"] == "49995000", "the waiting call finished although the nested one ran past the limit")
        #expect(engine.statistics.timeouts == 1)
        engine.shutdown()
    }

    @Test("Nothing runs nested when the next queued job is not a plugin call, or no call is queued")
    func onlyQueuedPluginCallsNest() async throws {
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware("""
            TykSetKeyData("key", "{}");
            return mw.ReturnData(request, {});
            """)], workers: 1, nestedCalls: true)
        let first = LateReplyHost(name: "first", offers: true)
        async let firstOutcome = engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(),
                                                      spec: Fixtures.spec, host: first)
        await wait(first.entered)
        // A tool's evaluation is not a plugin call: it waits its turn.
        async let evaluated = engine.evaluate("typeof mw", realm: "test-api")
        try await waitUntilHeld(engine, 2)
        first.proceed.signal()
        _ = try await firstOutcome
        #expect(try await evaluated == #""object""#)
        #expect(first.notes == ["first waits", "first has its reply"])
        engine.shutdown()
    }

    @Test("A waiting worker with nothing queued takes the first call queued on another worker, and both count it once")
    func callsQueuedElsewhereAreTaken() async throws {
        let roster = WorkerRoster()
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let configuration = JSEngineConfiguration(timeoutSeconds: 5, logger: logger, nestedCalls: true)
        let waiting = JSWorker(index: 7, configuration: configuration, roster: roster)
        let busy = JSWorker(index: 8, configuration: configuration, roster: roster)
        roster.set([waiting, busy])
        let notes = Locked<[String]>([])
        let busyStarted = DispatchSemaphore(value: 0)
        let releaseBusy = DispatchSemaphore(value: 0)
        let allDone = DispatchSemaphore(value: 0)
        #expect(busy.submit { _ in
            busyStarted.signal()
            releaseBusy.wait()
        })
        await wait(busyStarted)
        // Queued behind the busy worker's running job, not yet taken by it.
        #expect(busy.submit(nestable: true) { _ in
            notes.withLock { $0.append("queued call ran on \(Thread.current.name ?? "?")") }
        })
        #expect(busy.activity.calls == 2)
        #expect(waiting.submit { _ in
            BlockingThread.offerWaitingTime()
            notes.withLock { $0.append("wait over") }
            allDone.signal()
        })
        await wait(allDone)
        #expect(notes.value == ["queued call ran on portcullis-js-7", "wait over"])
        #expect(busy.activity.calls == 1, "the taken call no longer counts on the worker it was queued on")
        releaseBusy.signal()
        for _ in 0..<500 where waiting.activity.calls + busy.activity.calls > 0 {
            try await Task.sleep(nanoseconds: 2_000_000)
        }
        #expect(waiting.activity.calls == 0 && busy.activity.calls == 0)
        waiting.stop()
        busy.stop()
        roster.set([])
    }

    @Test("Without nested calls (the default) a waiting call holds its worker: the next call runs after it")
    func offByDefault() async throws {
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware("""
            TykSetKeyData("key-" + request.Headers["Who"][0], "{}");
            return mw.ReturnData(request, {});
            """)], workers: 1)
        let (_, _, notes) = try await firstWaitsWhileSecondIsQueued(engine)
        #expect(notes == ["first waits", "first has its reply", "second wrote"])
        engine.shutdown()
    }
}
