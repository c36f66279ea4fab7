import AsyncHTTPClient
import Foundation
import PortcullisCore
import PortcullisGateway

/// Replays scenario files against in-process gateway nodes on a virtual
/// clock, or against a live gateway (`target`), and reports each one.
public struct ScenarioRunner: Sendable {
    /// How to run.
    public struct Options: Sendable {
        /// Session semantics of in-process nodes (``SessionSemantics/tykRace`` to show the race).
        public var semantics: SessionSemantics
        /// A live gateway's base URL; nil runs in-process.
        public var target: String?
        /// The live gateway's admin secret.
        public var adminSecret: String
        /// Longest clock advance a live run waits out for real, in seconds.
        public var maxRealWait: Double
        /// Echo the nodes' log lines to standard error.
        public var echoLogs: Bool

        /// Creates options; the defaults run in-process under the consistency contract.
        public init(semantics: SessionSemantics = .consistent, target: String? = nil, adminSecret: String = "",
                    maxRealWait: Double = 10, echoLogs: Bool = false) {
            self.semantics = semantics
            self.target = target
            self.adminSecret = adminSecret
            self.maxRealWait = maxRealWait
            self.echoLogs = echoLogs
        }
    }

    /// The options in force.
    public let options: Options

    /// Creates a runner.
    public init(options: Options = Options()) {
        self.options = options
    }

    /// Runs every scenario file under `paths` (files or folders), in
    /// order; a malformed file is reported as an error and the rest still run.
    public func run(paths: [String]) async -> [ScenarioResult] {
        var entries: [Entry] = []
        for path in paths {
            do {
                for file in try ScenarioParser.files(at: path) {
                    do {
                        entries.append(.scenario(try ScenarioParser.load(file: file)))
                    } catch {
                        entries.append(.refused(Self.errorResult(file: file, message: "\(error)")))
                    }
                }
            } catch {
                entries.append(.refused(Self.errorResult(file: path, message: "\(error)")))
            }
        }
        let session = RunSession(options: options)
        var results: [ScenarioResult] = []
        for entry in entries {
            switch entry {
            case .scenario(let scenario): results.append(await run(scenario, in: session))
            case .refused(let result): results.append(result)
            }
        }
        await session.close()
        return results
    }

    private enum Entry {
        case scenario(Scenario)
        case refused(ScenarioResult)
    }

    /// Runs parsed scenarios, in order.
    public func run(_ scenarios: [Scenario]) async -> [ScenarioResult] {
        let session = RunSession(options: options)
        var results: [ScenarioResult] = []
        for scenario in scenarios { results.append(await run(scenario, in: session)) }
        await session.close()
        return results
    }

    private func run(_ scenario: Scenario, in session: RunSession) async -> ScenarioResult {
        await run(scenario, on: { try await session.target(for: scenario) })
    }

    private func run(_ scenario: Scenario, on makeTarget: () async throws -> any ScenarioTarget) async -> ScenarioResult {
        var result = ScenarioResult(name: scenario.name, file: scenario.file, underTykRace: scenario.underTykRace, outcome: .passed,
                                    stepsRun: 0, stepsTotal: scenario.steps.count, failure: nil, skips: [], seconds: 0, virtualSeconds: 0)
        if let pending = scenario.pending {
            result.outcome = .pending(pending)
            return result
        }
        let started = ContinuousClock.now
        defer { result.seconds = Self.seconds(since: started) }
        let target: any ScenarioTarget
        do {
            target = try await makeTarget()
        } catch let skipped as StepSkipped {
            result.outcome = .skipped(skipped.reason)
            return result
        } catch {
            result.outcome = .error("\(error)")
            return result
        }
        let startTime = target.templates().now
        var executor = StepExecutor(target: target, scenario: scenario)
        for step in scenario.steps {
            do {
                try await executor.run(step)
                result.stepsRun += 1
            } catch let skipped as StepSkipped {
                result.skips.append(.init(step: step.index, name: step.name, reason: skipped.reason))
                if step.action.changesState {
                    for later in scenario.steps where later.index > step.index {
                        result.skips.append(.init(step: later.index, name: later.name, reason: "follows skipped step \(step.index)"))
                    }
                    if result.stepsRun == 0 { result.outcome = .skipped("step \(step.index) \(skipped.reason)") }
                    break
                }
            } catch let failure as StepFailed {
                result.stepsRun += 1
                result.failure = .init(step: step.index, name: step.name, message: failure.message)
                result.outcome = .failed
                break
            } catch {
                result.stepsRun += 1
                result.failure = .init(step: step.index, name: step.name, message: "\(error)")
                result.outcome = .failed
                break
            }
        }
        result.virtualSeconds = Double(target.templates().now - startTime)
        await target.close()
        result.seconds = Self.seconds(since: started)
        return result
    }

    static func errorResult(file: String, message: String) -> ScenarioResult {
        ScenarioResult(name: ((file as NSString).lastPathComponent as NSString).deletingPathExtension, file: file, underTykRace: .passes,
                       outcome: .error(message), stepsRun: 0, stepsTotal: 0, failure: nil, skips: [], seconds: 0, virtualSeconds: 0)
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        (ContinuousClock.now - start).secondsValue
    }
}

/// What the scenarios of one run share: the loopback upstream (started
/// on first use) or the HTTP client for a live target.
final class RunSession: @unchecked Sendable {
    private let options: ScenarioRunner.Options
    private var upstream: LoopbackUpstream?
    private var client: HTTPClient?

    init(options: ScenarioRunner.Options) {
        self.options = options
    }

    /// A fresh target for `scenario`. Scenarios run one at a time, so the
    /// lazily created members need no lock.
    func target(for scenario: Scenario) async throws -> any ScenarioTarget {
        if let base = options.target {
            let client = self.client ?? HTTPClient(eventLoopGroupProvider: .singleton,
                                                   configuration: .init(redirectConfiguration: .disallow))
            self.client = client
            return RemoteTarget(base: base, adminSecret: options.adminSecret, maxRealWait: options.maxRealWait,
                                nodes: scenario.nodes, client: client)
        }
        let upstream: LoopbackUpstream
        if let running = self.upstream {
            upstream = running
        } else {
            upstream = try await LoopbackUpstream.start()
            self.upstream = upstream
        }
        return try await LocalTarget.start(scenario, semantics: options.semantics, upstream: upstream.base, echoLogs: options.echoLogs)
    }

    func close() async {
        await upstream?.stop()
        try? await client?.shutdown()
    }
}

/// A check that did not hold: expected versus actual.
struct StepFailed: Error {
    let message: String
}
