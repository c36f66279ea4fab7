import ArgumentParser
import Foundation
import PortcullisGateway
import PortcullisScenarios

/// `portcullis scenario run PATH…`: runs scenario files and prints a table.
struct ScenarioRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run scenario files (JSON or YAML) and report each one.",
        discussion: """
        Each scenario names a gateway config, API definitions and plugins, \
        then lists steps on a clock: create or delete keys, send requests, \
        advance the clock, make the store slow or unavailable, and check \
        statuses, bodies, headers, sessions and log lines. The format is \
        described in examples/scenarios/README.md.

        By default every scenario starts its own gateway node(s) in this \
        process on a virtual clock, so a day of expiry rules takes \
        milliseconds.

        --mode tyk-race runs the same pipeline with Tyk's unsafe session \
        semantics: auth reads a stale node-local cache, and plugin writes \
        land after the response. Scenarios marked "tyk_race": "fails" must \
        fail there; that shows they detect the race.

        --target URL sends the HTTP steps to a live gateway (a real Tyk \
        too) in real time. Load the scenario's API definitions there first. \
        Clock advances up to --max-real-wait seconds are waited out; steps \
        that need a longer advance, the store, a second node or the \
        gateway's log are skipped with the reason.

        Exit status: 0 when nothing failed, 1 when a scenario failed, 2 \
        when a file is malformed or a scenario's gateway could not start.

        Examples:
          portcullis scenario run examples/scenarios/
          portcullis scenario run examples/scenarios/ --mode tyk-race
          portcullis scenario run examples/scenarios/renew-at-expiry.json \\
              --junit results.xml
          portcullis scenario run examples/scenarios/ \\
              --target http://127.0.0.1:8080 --admin-secret S
        """
    )

    @Argument(help: "Scenario files or folders of them.")
    var paths: [String]

    @Option(help: "Session semantics of the in-process gateway: consistent or tyk-race.")
    var mode: String = SessionSemantics.consistent.rawValue

    @Option(help: "Base URL of a live gateway to run the HTTP steps against, e.g. http://127.0.0.1:8080.")
    var target: String?

    @Option(help: "Admin secret of the live gateway (x-tyk-authorization).")
    var adminSecret: String?

    @Option(help: "With --target: longest clock advance to wait out for real, in seconds.")
    var maxRealWait: Double = 10

    @Option(help: "Also write the results as JUnit XML to this file.")
    var junit: String?

    @Flag(help: "Print every log line of the scenario's gateway nodes to standard error.")
    var verbose = false

    func validate() throws {
        guard SessionSemantics(rawValue: mode) != nil else {
            throw ValidationError("--mode must be one of \(SessionSemantics.allCases.map(\.rawValue).joined(separator: ", ")), got '\(mode)'")
        }
        if let target {
            guard let url = URL(string: target), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw ValidationError("--target must be a URL such as http://127.0.0.1:8080, got '\(target)'")
            }
            guard adminSecret != nil else { throw ValidationError("--target needs --admin-secret to create and read keys") }
            guard mode == SessionSemantics.consistent.rawValue else {
                throw ValidationError("--mode applies to the in-process gateway only; a live target has its own semantics")
            }
        }
        guard maxRealWait >= 0 else { throw ValidationError("--max-real-wait must not be negative") }
    }

    func run() async throws {
        CommandSupport.bootstrapLogging(.error)
        let semantics = SessionSemantics(rawValue: mode) ?? .consistent
        let runner = ScenarioRunner(options: .init(semantics: semantics, target: target, adminSecret: adminSecret ?? "",
                                                   maxRealWait: maxRealWait, echoLogs: verbose))
        let results = await runner.run(paths: paths)
        let label = target == nil ? mode : "target \(target ?? "")"
        print(ScenarioReport.table(results, mode: label), terminator: "")
        if let junit {
            do {
                try Data(ScenarioReport.junit(results, mode: label).utf8).write(to: URL(fileURLWithPath: junit))
            } catch {
                throw ValidationError("cannot write --junit file '\(junit)': \(error.localizedDescription)")
            }
        }
        if results.contains(where: \.isError) {
            throw ExitCode(2)
        }
        if results.contains(where: { $0.isFailure }) { throw ExitCode(1) }
    }
}
