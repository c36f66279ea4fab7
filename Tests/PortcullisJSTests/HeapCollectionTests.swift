import Foundation
import PortcullisCore
import Testing
@testable import PortcullisJS

/// Workers collect their heaps in full themselves: JavaScriptCore times
/// those collections on a run loop that worker threads never run.
@Suite("Full heap collections on workers")
struct HeapCollectionTests {
    /// A handler that leaves garbage behind on every call.
    private static let littering = Fixtures.middleware("""
        var junk = [];
        for (var i = 0; i < 5000; i++) junk.push({n: i, text: "item " + i});
        return mw.ReturnData(request, {});
        """)

    private static func engine(collectingEvery seconds: Double) async throws -> JSEngine {
        let engine = JSEngine(configuration: JSEngineConfiguration(workerCount: 1, timeoutSeconds: 5, heapCollectionSeconds: seconds))
        try await engine.loadRealm("test-api", scripts: [PluginScript(path: "mw.js", source: littering)])
        return engine
    }

    private static func call(_ engine: JSEngine) async throws {
        _ = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(url: "/a"),
                                           spec: Fixtures.spec, host: nil)
    }

    /// Waits up to two seconds for the count to reach `count`.
    private static func collections(of engine: JSEngine, reaching count: Int) async throws -> Int {
        for _ in 0..<200 where engine.statistics.heapCollections < count {
            try await Task.sleep(for: .milliseconds(10))
        }
        return engine.statistics.heapCollections
    }

    @Test("A heap is collected after a call once the interval has passed, and not again while no call runs")
    func collectedBetweenCalls() async throws {
        let engine = try await Self.engine(collectingEvery: 0.3)
        defer { engine.shutdown() }
        // Loading the realm ran on the worker too, and may have been collected.
        try await Task.sleep(for: .milliseconds(400))
        let loaded = engine.statistics.heapCollections
        try await Self.call(engine)
        #expect(try await Self.collections(of: engine, reaching: loaded + 1) == loaded + 1)
        // Idle: nothing ran since, so nothing is collected however long it waits.
        try await Task.sleep(for: .milliseconds(500))
        #expect(engine.statistics.heapCollections == loaded + 1)
        // The interval has passed: the next call is followed by a collection,
        // the one right after it is not.
        try await Self.call(engine)
        try await Self.call(engine)
        try await Task.sleep(for: .milliseconds(100))
        #expect(engine.statistics.heapCollections == loaded + 2)
    }

    @Test("Calls closer together than the interval share one collection")
    func oneCollectionPerInterval() async throws {
        let engine = try await Self.engine(collectingEvery: 30)
        defer { engine.shutdown() }
        for _ in 0..<5 { try await Self.call(engine) }
        try await Task.sleep(for: .milliseconds(100))
        #expect(engine.statistics.heapCollections == 0)
    }

    @Test("An interval of zero turns the collections off")
    func off() async throws {
        let engine = try await Self.engine(collectingEvery: 0)
        defer { engine.shutdown() }
        for _ in 0..<3 {
            try await Task.sleep(for: .milliseconds(20))
            try await Self.call(engine)
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(engine.statistics.heapCollections == 0)
    }
}
