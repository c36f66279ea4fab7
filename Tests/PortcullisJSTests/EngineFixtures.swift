import Foundation
import PortcullisCore
@testable import PortcullisJS

/// Shared helpers: an engine with one realm of inline scripts, and paths.
enum Fixtures {
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func pluginFile(_ name: String) throws -> PluginScript {
        let url = repositoryRoot.appendingPathComponent("plugins").appendingPathComponent(name)
        return PluginScript(path: "plugins/\(name)", source: try String(contentsOf: url, encoding: .utf8))
    }

    static func engine(_ sources: [String: String], timeout: Double = 5, workers: Int = 2,
                       clock: any GatewayClock = SystemClock(), realm: String = "test-api",
                       nestedCalls: Bool = false) async throws -> JSEngine {
        let engine = JSEngine(configuration: JSEngineConfiguration(workerCount: workers, timeoutSeconds: timeout, clock: clock,
                                                                   nestedCalls: nestedCalls))
        try await engine.loadRealm(realm, scripts: sources.sorted { $0.key < $1.key }.map { PluginScript(path: $0.key, source: $0.value) })
        return engine
    }

    static let spec = PluginSpec(apiID: "api-1", orgID: "org-1", configData: .object(["foo": .string("bar"), "n": .int(3)]))

    /// A middleware file that runs `body` inside a handler named `mw`.
    static func middleware(_ body: String) -> String {
        """
        var mw = new TykJS.TykMiddleware.NewMiddleware({});
        mw.NewProcessRequest(function (request, session, config) {
        \(body)
        });
        """
    }
}
