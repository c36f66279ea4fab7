import Foundation
import Testing

/// `--help` is read in an 80-column terminal: ArgumentParser wraps the
/// prose, so the source must not break lines inside a paragraph.
@Suite("Help text")
struct HelpTextTests {
    @Test("Every command's help fits 80 columns and breaks prose only where ArgumentParser wraps it",
          arguments: [[], ["serve"], ["plugin"], ["plugin", "run"], ["plugin", "test"], ["scenario"], ["scenario", "run"]])
    func helpWraps(command: [String]) async throws {
        let result = try await CommandLineTool.run(command + ["--help"])
        #expect(result.status == 0)
        let lines = result.stdout.components(separatedBy: "\n")
        #expect(lines.count > 5, "\(result.stdout)")
        func isProse(_ line: String) -> Bool { !line.isEmpty && !line.hasPrefix(" ") && !line.hasPrefix("USAGE:") }
        for (index, line) in lines.enumerated() {
            if !line.hasPrefix("USAGE:") { #expect(line.count <= 80, "\(command): too wide: \(line)") }
            guard index + 1 < lines.count, isProse(line), isProse(lines[index + 1]) else { continue }
            let ended = line.hasSuffix(":") || line.hasSuffix(".") || line.hasSuffix(")")
            #expect(ended || line.count >= 60, "\(command): a paragraph breaks early after '\(line)'")
        }
    }
}
