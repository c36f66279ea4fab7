import Foundation
import PortcullisCore
import Testing
@testable import PortcullisJS

/// A host that notes on which thread each binding's work runs, before and
/// after a real suspension.
private final class ThreadNotingHost: PluginHost, @unchecked Sendable {
    private let lock = NSLock()
    private var noted: [String] = []

    var notes: [String] { lock.withLock { noted } }

    private func note(_ step: String) {
        let name = Thread.current.name ?? "?"
        lock.withLock { noted.append("\(step) \(BlockingThread.isCurrent ? "blocking" : "not-blocking") \(name)") }
    }

    func getKeyData(key: String, apiID: String) async throws -> String {
        note("read")
        // A real suspension: the work is resumed by a timer on another thread.
        try await Task.sleep(nanoseconds: 5_000_000)
        note("read-resumed")
        return #"{"expires": 7}"#
    }

    func setKeyData(key: String, sessionJSON: String, suppressReset: Bool) async throws {
        note("write")
    }

    func send(_ request: PluginHTTPRequest) async throws -> PluginHTTPResponse {
        PluginHTTPResponse(status: 200)
    }
}

/// A host that makes `TykSetKeyData`'s write on the worker itself and
/// blocks there until the test lets it go, as a write on a worker's own
/// Redis connection blocks for the round trip.
private final class BlockingWriteHost: PluginHost, @unchecked Sendable {
    let entered = DispatchSemaphore(value: 0)
    let release = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var asyncWrites = 0

    var writesThroughTheBridge: Int { lock.withLock { asyncWrites } }

    func getKeyData(key: String, apiID: String) async throws -> String { "{}" }

    func setKeyDataImmediately(key: String, sessionJSON: String, suppressReset: Bool) throws -> ImmediateKeyWrite {
        entered.signal()
        release.wait()
        return .done
    }

    func setKeyData(key: String, sessionJSON: String, suppressReset: Bool) async throws {
        lock.withLock { asyncWrites += 1 }
    }

    func send(_ request: PluginHTTPRequest) async throws -> PluginHTTPResponse {
        PluginHTTPResponse(status: 200)
    }
}

@Suite("Where binding work runs")
struct BindingThreadTests {
    @Test("A binding's async work runs on the JS worker that waits for it, before and after it suspends, and may block there")
    func workRunsOnTheWaitingWorker() async throws {
        let host = ThreadNotingHost()
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware("""
            var stored = JSON.parse(TykGetKeyData("k1", "api-1"));
            TykSetKeyData("k1", JSON.stringify({"expires": stored.expires + 1}), "1");
            request.SetHeaders["expires"] = String(stored.expires);
            return mw.ReturnData(request, {});
            """)])
        defer { engine.shutdown() }
        let outcome = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(), spec: Fixtures.spec, host: host)
        #expect(outcome.request.setHeaders["expires"] == "7")
        let notes = host.notes
        #expect(notes.count == 3)
        let workers = Set(notes.map { $0.split(separator: " ").last.map(String.init) ?? "" })
        #expect(workers.count == 1 && workers.first?.hasPrefix("portcullis-js-") == true, "all on one worker: \(notes)")
        #expect(notes.allSatisfy { $0.contains(" blocking ") }, "\(notes)")
    }

    @Test("A write the host makes on the worker itself counts as a store wait while it blocks, and a finished one never takes the waiting path")
    func immediateWriteIsAStoreWait() async throws {
        let host = BlockingWriteHost()
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware("""
            TykSetKeyData("k1", JSON.stringify({"expires": 9}));
            return mw.ReturnData(request, {});
            """)])
        defer { engine.shutdown() }
        async let outcome = engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(), spec: Fixtures.spec, host: host)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                host.entered.wait()
                done.resume()
            }
        }
        #expect(engine.statistics.waitingOnIO == 1, "the worker blocked in the write is counted as waiting")
        host.release.signal()
        _ = try await outcome
        #expect(engine.statistics.waitingOnIO == 0)
        #expect(host.writesThroughTheBridge == 0, "a write the host finished is not made again")
    }
}
