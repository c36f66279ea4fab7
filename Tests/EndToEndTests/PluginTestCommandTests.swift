import Foundation
import Testing

/// `portcullis plugin test` as a user runs it: the real binary on real files.
@Suite("portcullis plugin test")
struct PluginTestCommandTests {
    /// A fresh folder holding `files` (name → contents).
    private func folder(_ files: [String: String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-fixtures-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (name, contents) in files {
            try contents.write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return url
    }

    private static let renewal = """
        {
          "name": "renews an expired key",
          "now": 1700000000,
          "config_data": {"session_expires_seconds": "60"},
          "request": {"url": "/forum/x", "headers": {"X-Session-Key": "k1"}},
          "store": {"k1": {"expires": 1699999000}},
          "expect": {"overrides": {"ResponseCode": 0}, "session_writes": {"k1": {"expires": 1700000060}}}
        }
        """

    @Test("The example fixtures pass: exit 0 and a PASS line per fixture")
    func examplesPass() async throws {
        let result = try await CommandLineTool.run([
            "plugin", "test", "plugins/forum-renewal.js", "examples/plugin-fixtures/forum-renewal/",
        ])
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.contains("4 passed, 0 failed"), "stdout: \(result.stdout)")
        #expect(result.stdout.contains("PASS an expired key is renewed for session_expires_seconds"))
        #expect(!result.stdout.contains("FAIL"))
    }

    @Test("A failing fixture exits 1 and prints the differing fields as - expected + actual")
    func failureDiff() async throws {
        let wrong = Self.renewal
            .replacingOccurrences(of: #""ResponseCode": 0"#, with: #""ResponseCode": 401"#)
            .replacingOccurrences(of: "renews an expired key", with: "expects a refusal")
        let dir = try folder(["a-good.json": Self.renewal, "b-wrong.json": wrong])
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try await CommandLineTool.run(["plugin", "test", "plugins/forum-renewal.js", dir.path])
        #expect(result.status == 1, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.contains("PASS renews an expired key"))
        #expect(result.stdout.contains("FAIL expects a refusal (\(dir.path)/b-wrong.json)"), "stdout: \(result.stdout)")
        #expect(result.stdout.contains("    overrides.ResponseCode: - 401 + 0"), "stdout: \(result.stdout)")
        #expect(result.stdout.hasSuffix("1 passed, 1 failed\n"), "stdout: \(result.stdout)")
    }

    @Test("A malformed fixture exits 2 naming the file and the unknown field; nothing runs")
    func malformedFixture() async throws {
        let typo = Self.renewal.replacingOccurrences(of: #""expect""#, with: #""expct""#)
        let dir = try folder(["good.json": Self.renewal, "renew.json": typo])
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try await CommandLineTool.run(["plugin", "test", "plugins/forum-renewal.js", dir.path])
        #expect(result.status == 2, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stderr.contains("\(dir.path)/renew.json: field 'expct' is not a known field; known fields: name,"),
                "stderr: \(result.stderr)")
        #expect(!result.stdout.contains("passed"))

        let missing = try await CommandLineTool.run(["plugin", "test", "plugins/nope.js", dir.path])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("cannot read plugin file 'plugins/nope.js'"), "stderr: \(missing.stderr)")
    }

    @Test("A plugin that throws fails its fixture with the source line and a caret")
    func pluginErrorExcerpt() async throws {
        let plugin = try CommandLineTool.temporaryFile("bad.js", """
            var bad = new TykJS.TykMiddleware.NewMiddleware({});
            bad.NewProcessRequest(function (request, session, config) {
              var s = JSON.parse(TykGetKeyData("k", config.APIID)).session.expires;
              return bad.ReturnData(request, {});
            });
            """)
        defer { CommandLineTool.removeTemporaryFile(plugin) }
        let dir = try folder(["one.json": #"{"name": "reads a session", "request": {}}"#])
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try await CommandLineTool.run(["plugin", "test", plugin, dir.path])
        #expect(result.status == 1, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.contains("error: plugin bad threw at \(plugin):3: TypeError"), "stdout: \(result.stdout)")
        #expect(result.stdout.contains("      3 |   var s = JSON.parse(TykGetKeyData(\"k\", config.APIID)).session.expires;\n        |"),
                "stdout: \(result.stdout)")
        #expect(result.stdout.contains("^"))
    }

    @Test("--help teaches the fixture format with an example")
    func help() async throws {
        let result = try await CommandLineTool.run(["plugin", "test", "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("Example fixture:"))
        #expect(result.stdout.contains("session_writes"))
        #expect(result.stdout.contains("overrides.ResponseCode: - 401 + 200"))

        // The example in the help is a real fixture, and it passes against the forum plugin.
        let start = try #require(result.stdout.range(of: "Example fixture:"))
        let end = try #require(result.stdout.range(of: "\nRequired:"))
        let example = String(result.stdout[start.upperBound..<end.lowerBound])
        let dir = try folder(["example.json": example])
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try await CommandLineTool.run(["plugin", "test", "plugins/forum-renewal.js", dir.path])
        #expect(run.status == 0, "stdout: \(run.stdout)\nstderr: \(run.stderr)")
        #expect(run.stdout.contains("1 passed, 0 failed"))
    }
}
