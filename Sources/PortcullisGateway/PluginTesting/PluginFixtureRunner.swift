import Foundation
import PortcullisCore
import PortcullisJS

/// Runs fixtures against one plugin file the way the gateway calls it:
/// loaded after the Tyk prelude, called as the fixture's hook, with
/// `TykGetKeyData`/`TykSetKeyData` on an in-memory store seeded from the
/// fixture and `TykMakeHttpRequest` answered by its stubs. Each fixture gets
/// a fresh context, so globals a handler changes never leak into the next.
/// Backs `portcullis plugin test`.
public struct PluginFixtureRunner: Sendable {
    /// The execution time limit per call (`jsvm_timeout`), in seconds.
    public var timeoutSeconds: Double

    /// Creates a runner.
    public init(timeoutSeconds: Double = 5) {
        self.timeoutSeconds = timeoutSeconds
    }

    /// Runs every fixture, in order, and reports each one.
    public func run(script: PluginScript, fixtures: [PluginFixture]) async -> PluginTestReport {
        let clock = FixtureClock()
        let engine = JSEngine(configuration: JSEngineConfiguration(workerCount: 1, timeoutSeconds: timeoutSeconds, clock: clock))
        var results: [PluginFixtureResult] = []
        for (index, fixture) in fixtures.enumerated() {
            clock.fix(at: fixture.now)
            results.append(await run(fixture, script: script, engine: engine, clock: clock, realm: "plugin-test-\(index)"))
        }
        engine.shutdown()
        return PluginTestReport(results: results)
    }

    private func run(_ fixture: PluginFixture, script: PluginScript, engine: JSEngine, clock: FixtureClock,
                     realm: String) async -> PluginFixtureResult {
        func result(_ failures: [PluginFixtureResult.Failure]) -> PluginFixtureResult {
            PluginFixtureResult(file: fixture.file, name: fixture.name, failures: failures)
        }
        let handler: String
        do {
            handler = try fixture.handler ?? PluginRunner.inferHandler(in: script)
        } catch PluginRunner.RunError.cannotChooseHandler(let file, let candidates) {
            let found = candidates.isEmpty ? "defines no middleware object" : "defines several (\(candidates.joined(separator: ", ")))"
            return result([.cannotRun("\(file) \(found); name the one to call with \"handler\" in the fixture")])
        } catch {
            return result([.cannotRun("\(error)")])
        }

        let transport = StubHTTPTransport(stubs: fixture.http)
        var sessions = fixture.store
        if let key = fixture.key, let session = fixture.session { sessions[key] = session }
        let host = LocalPluginHost(sessions: sessions, transport: transport, clock: clock)

        let outcome: Result<[String: JSONValue], any Error>
        do {
            try await engine.loadRealm(realm, scripts: [script])
            do {
                outcome = .success(try await call(fixture, handler: handler, realm: realm, engine: engine, host: host))
            } catch {
                outcome = .failure(error)
            }
            await engine.dropRealm(realm)
        } catch {
            outcome = .failure(error)
        }

        var failures: [PluginFixtureResult.Failure] = transport.unmatched.map { .unmatchedHTTP($0) }
        var actual: [String: JSONValue]
        var logs: [String] = []
        switch outcome {
        case .success(let produced):
            actual = produced
            if case .array(let lines)? = produced["logs"] { logs = lines.compactMap(\.stringValue) }
            if let expected = fixture.expect.error {
                failures.append(.difference(FieldDifference(path: "error", expected: JSONValue.string(expected).jsonString(),
                                                            actual: "(the plugin ran without an error)")))
            }
        case .failure(PluginError.handlerNotFound(let name, _)):
            let reason = "\(script.path) defines no global object or function named '\(name)'; check \"handler\" in the fixture"
            return result(failures + [.cannotRun(reason)])
        case .failure(let error):
            actual = [:]
            let message = "\(error)"
            if let expected = fixture.expect.error {
                if !message.contains(expected) {
                    let firstLine = message.split(separator: "\n").first.map(String.init) ?? message
                    failures.append(.difference(FieldDifference(path: "error", expected: JSONValue.string(expected).jsonString(),
                                                                actual: JSONValue.string(firstLine).jsonString())))
                }
            } else {
                // A plugin that fails returns nothing else to compare: the error is the report.
                return result(failures + [.pluginFailed(message)])
            }
        }
        actual["session_writes"] = Self.lastWrites(host.writes)

        let order = PluginFixtureParser.expectFields
        let checked = fixture.expect.fields.keys.sorted { (order.firstIndex(of: $0) ?? 0) < (order.firstIndex(of: $1) ?? 0) }
        for field in checked where fixture.expect.error == nil || field == "session_writes" {
            guard let expected = fixture.expect.fields[field] else { continue }
            failures += FixtureDiff.compare(expected: expected, actual: actual[field], path: field).map { .difference($0) }
        }
        for (index, expected) in fixture.expect.logs.enumerated() where !logs.contains(where: { $0.contains(expected) }) {
            let written = JSONValue.array(logs.map(JSONValue.string)).jsonString()
            failures.append(.difference(FieldDifference(path: "logs[\(index)]", expected: JSONValue.string(expected).jsonString(),
                                                        actual: "(in no log line; logged: \(written))")))
        }
        return result(failures)
    }

    /// Calls the hook once and returns the result fields fixtures compare.
    private func call(_ fixture: PluginFixture, handler: String, realm: String, engine: JSEngine,
                      host: LocalPluginHost) async throws -> [String: JSONValue] {
        let spec = PluginSpec(apiID: fixture.apiID, orgID: fixture.orgID, configData: fixture.configData)
        let sessionJSON = [.pre, .auth].contains(fixture.hook) ? "{}" : (fixture.session?.jsonString() ?? "{}")
        let request = Self.request(fixture.request)
        var actual: [String: JSONValue] = [:]
        let logs: [PluginLogLine]
        if fixture.hook == .virtual {
            let outcome = try await engine.runVirtualEndpoint(realm: realm, handler: handler,
                                                              request: PluginRunner.virtualRequest(request),
                                                              sessionJSON: sessionJSON, spec: spec, host: host)
            actual["response"] = PluginRunner.response(outcome)
            actual["session_meta"] = outcome.sessionMeta ?? .null
            logs = outcome.logs
        } else {
            let outcome = try await engine.runMiddleware(realm: realm, handler: handler, request: request,
                                                         sessionJSON: sessionJSON, spec: spec, host: host)
            actual["request"] = PluginRunner.changes(outcome.request)
            actual["overrides"] = PluginRunner.overrides(outcome.request.returnOverrides)
            actual["session_meta"] = outcome.sessionMeta.map { .object($0.mapValues(JSONValue.string)) } ?? .null
            actual["session"] = outcome.session ?? .null
            actual["auth_value"] = outcome.authValue.map(JSONValue.string) ?? .null
            logs = outcome.logs
        }
        actual["logs"] = .array(logs.map { .string($0.message) })
        return actual
    }

    /// The request object the gateway would build: canonical header names,
    /// `Params` from the query, `RequestURI` equal to the URL.
    static func request(_ fixture: PluginFixture.Request) -> MiniRequest {
        var headers: [String: [String]] = [:]
        for name in fixture.headers.keys.sorted() {
            headers[HeaderList.canonical(name), default: []] += fixture.headers[name] ?? []
        }
        return MiniRequest(headers: headers, body: fixture.body, url: fixture.url,
                           params: RequestFixture.queryParameters(of: fixture.url), method: fixture.method,
                           requestURI: fixture.url, scheme: "http")
    }

    /// The session each key holds after the run: the last write wins.
    private static func lastWrites(_ writes: [LocalPluginHost.SessionWrite]) -> JSONValue {
        var byKey: [String: JSONValue] = [:]
        for write in writes { byKey[write.key] = write.session }
        return .object(byKey)
    }
}

/// The clock behind `Date` in fixture runs: fixed at a fixture's `now`, or
/// the real time when the fixture sets none.
final class FixtureClock: GatewayClock {
    private let fixed = Locked<Date?>(nil)

    func now() -> Date { fixed.value ?? Date() }

    /// Fixes the clock at `seconds` (Unix time), or releases it with nil.
    func fix(at seconds: Double?) {
        fixed.value = seconds.map { Date(timeIntervalSince1970: $0) }
    }
}
