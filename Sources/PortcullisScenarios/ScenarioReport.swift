import Foundation

/// Renders scenario results for people (a table) and for CI systems (JUnit XML).
public enum ScenarioReport {
    /// The table: scenario, steps, result, time; then the details of every
    /// failure, error and skip.
    public static func table(_ results: [ScenarioResult], mode: String) -> String {
        let rows = results.map { result -> [String] in
            let steps = result.stepsTotal == 0 ? "-" : "\(result.stepsRun)/\(result.stepsTotal)"
            var verdict = label(result.outcome)
            if mode == "tyk-race", result.underTykRace == .fails { verdict += " (race expected)" }
            if !result.skips.isEmpty, result.outcome == .passed { verdict += " (\(result.skips.count) skipped)" }
            let time = String(format: "%.2f s", result.seconds) + (result.virtualSeconds > 0 ? " (clock +\(clock(result.virtualSeconds)))" : "")
            return [result.name, steps, verdict, time]
        }
        let header = ["Scenario", "Steps", "Result", "Time"]
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        var out = [line(header), line(widths.map { String(repeating: "-", count: $0) })] + rows.map(line)
        let passed = results.filter { $0.outcome == .passed }.count
        let failed = results.filter { $0.outcome == .failed }.count
        let errors = results.filter(\.isError).count
        let other = results.count - passed - failed - errors
        out.append("")
        out.append("\(results.count) scenario(s), mode \(mode): \(passed) passed, \(failed) failed, \(errors) error(s), \(other) skipped or pending")
        for result in results {
            switch result.outcome {
            case .failed:
                if let failure = result.failure {
                    out.append("")
                    out.append("FAIL \(result.name) (\(result.file))")
                    out.append("  step \(failure.step) \"\(failure.name)\": \(failure.message)")
                }
            case .error(let message):
                out.append("")
                out.append("ERROR \(result.file)")
                out.append("  \(message)")
            case .skipped(let reason), .pending(let reason):
                out.append("")
                out.append("\(label(result.outcome).uppercased()) \(result.name): \(reason)")
            case .passed:
                break
            }
            if result.outcome == .passed || result.outcome == .failed, !result.skips.isEmpty {
                out.append("")
                out.append("SKIPPED STEPS in \(result.name):")
                let followers = result.skips.filter { $0.reason.hasPrefix("follows skipped step") }
                for skip in result.skips where !skip.reason.hasPrefix("follows skipped step") {
                    out.append("  step \(skip.step) \"\(skip.name)\": \(skip.reason)")
                }
                if let first = followers.first, let last = followers.last {
                    let span = first.step == last.step ? "step \(first.step)" : "steps \(first.step)–\(last.step)"
                    out.append("  \(span): not run, depending on the skipped step before")
                }
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// JUnit XML: one test case per scenario, in one suite named after the mode.
    public static func junit(_ results: [ScenarioResult], mode: String) -> String {
        let failures = results.filter { $0.outcome == .failed }.count
        let errors = results.filter(\.isError).count
        let skipped = results.filter { if case .skipped = $0.outcome { return true }; if case .pending = $0.outcome { return true }; return false }.count
        let total = results.reduce(0) { $0 + $1.seconds }
        var xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        xml += #"<testsuites name="portcullis scenarios" tests="\#(results.count)" failures="\#(failures)" errors="\#(errors)" skipped="\#(skipped)" time="\#(String(format: "%.3f", total))">"# + "\n"
        xml += #"  <testsuite name="scenarios (\#(escape(mode)))" tests="\#(results.count)" failures="\#(failures)" errors="\#(errors)" skipped="\#(skipped)" time="\#(String(format: "%.3f", total))">"# + "\n"
        for result in results {
            xml += #"    <testcase classname="\#(escape(result.file))" name="\#(escape(result.name))" time="\#(String(format: "%.3f", result.seconds))""#
            switch result.outcome {
            case .passed:
                xml += "/>\n"
            case .failed:
                let failure = result.failure
                let message = failure.map { "step \($0.step) \"\($0.name)\": \($0.message)" } ?? "failed"
                xml += ">\n      <failure message=\"\(escape(message))\">\(escape(message))</failure>\n    </testcase>\n"
            case .error(let message):
                xml += ">\n      <error message=\"\(escape(message))\">\(escape(message))</error>\n    </testcase>\n"
            case .skipped(let reason), .pending(let reason):
                xml += ">\n      <skipped message=\"\(escape(reason))\"/>\n    </testcase>\n"
            }
        }
        xml += "  </testsuite>\n</testsuites>\n"
        return xml
    }

    static func label(_ outcome: ScenarioResult.Outcome) -> String {
        switch outcome {
        case .passed: return "pass"
        case .failed: return "FAIL"
        case .skipped: return "skipped"
        case .pending: return "pending"
        case .error: return "ERROR"
        }
    }

    private static func clock(_ seconds: Double) -> String {
        if seconds >= 86400 { return String(format: "%.1f d", seconds / 86400) }
        if seconds >= 3600 { return String(format: "%.1f h", seconds / 3600) }
        return String(format: "%.0f s", seconds)
    }

    private static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            default:
                if scalar.value < 0x20 && scalar != "\t" { out += "?" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
