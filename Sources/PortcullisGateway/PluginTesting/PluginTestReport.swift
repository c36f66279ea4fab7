/// The outcome of one fixture: passed, or every reason it failed.
public struct PluginFixtureResult: Sendable, Equatable {
    /// One reason a fixture failed.
    public enum Failure: Sendable, Equatable, CustomStringConvertible {
        /// An expected field has another value.
        case difference(FieldDifference)
        /// The plugin made an HTTP call that no stub in `http` answers.
        case unmatchedHTTP(StubHTTPTransport.UnmatchedCall)
        /// The plugin failed to load or run (the error text, with its source line).
        case pluginFailed(String)
        /// The fixture could not be run against this plugin (for example, no handler to call).
        case cannotRun(String)

        /// The text the report prints for this failure.
        public var description: String {
            switch self {
            case .difference(let difference):
                return difference.description
            case .unmatchedHTTP(let call):
                return "http: TykMakeHttpRequest \(call) matched no stub; add it to \"http\""
            case .pluginFailed(let message):
                return "error: \(message)"
            case .cannotRun(let message):
                return "cannot run: \(message)"
            }
        }
    }

    /// The fixture file.
    public var file: String
    /// The fixture's name.
    public var name: String
    /// Why it failed; empty when it passed.
    public var failures: [Failure]

    /// Creates a result.
    public init(file: String, name: String, failures: [Failure]) {
        self.file = file
        self.name = name
        self.failures = failures
    }

    /// True when every expectation held.
    public var passed: Bool { failures.isEmpty }
}

/// The results of a fixture run, and how they are printed.
public struct PluginTestReport: Sendable, Equatable {
    /// One result per fixture, in the order they ran.
    public var results: [PluginFixtureResult]

    /// Creates a report.
    public init(results: [PluginFixtureResult]) {
        self.results = results
    }

    /// How many fixtures passed.
    public var passedCount: Int { results.filter(\.passed).count }
    /// How many fixtures failed.
    public var failedCount: Int { results.count - passedCount }
    /// True when no fixture failed.
    public var allPassed: Bool { failedCount == 0 }

    /// `N passed, M failed`.
    public var summary: String { "\(passedCount) passed, \(failedCount) failed" }

    /// One `PASS`/`FAIL` line per fixture, each failure indented under its
    /// fixture as `path: - expected + actual`, then the summary line.
    public func rendered() -> String {
        var lines: [String] = []
        for result in results {
            lines.append("\(result.passed ? "PASS" : "FAIL") \(result.name) (\(result.file))")
            for failure in result.failures {
                let text = failure.description.split(separator: "\n", omittingEmptySubsequences: false)
                lines.append("    " + (text.first.map(String.init) ?? ""))
                lines.append(contentsOf: text.dropFirst().map { "    " + $0 })
            }
        }
        lines.append(summary)
        return lines.joined(separator: "\n")
    }
}
