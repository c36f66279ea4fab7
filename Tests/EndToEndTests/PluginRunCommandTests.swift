import Foundation
import Testing

/// `portcullis plugin run` as a user runs it: real process, real files.
@Suite("portcullis plugin run")
struct PluginRunCommandTests {
    @Test("Runs the forum renewal plugin and prints the renewed session as JSON")
    func renews() async throws {
        let result = try await CommandLineTool.run([
            "plugin", "run", "plugins/forum-renewal.js", "--request", "examples/requests/renew.json",
            "--session", "examples/sessions/expired.json", "--config", "examples/plugin-config.json", "--now", "1700000000",
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let writes = report?["sessionWrites"] as? [[String: Any]]
        let session = writes?.first?["session"] as? [String: Any]
        #expect(writes?.count == 1)
        #expect(session?["expires"] as? Int == 1_700_000_060)
        #expect((report?["returnOverrides"] as? [String: Any])?["ResponseCode"] as? Int == 0)
    }

    @Test("A syntax error exits 1 and names the file and line")
    func syntaxError() async throws {
        let plugin = try CommandLineTool.temporaryFile("broken.js", "var mw = new TykJS.TykMiddleware.NewMiddleware({});\nmw.NewProcessRequest(function (r) {\n  return (;\n});\n")
        defer { CommandLineTool.removeTemporaryFile(plugin) }
        let result = try await CommandLineTool.run(["plugin", "run", plugin, "--request", "examples/requests/get.json", "--handler", "mw"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("syntax error in plugin \(plugin):3"), "stderr: \(result.stderr)")
    }

    @Test("An exception exits 1 with the plugin line; a runaway loop is stopped at --timeout")
    func exceptionAndTimeout() async throws {
        let thrower = try CommandLineTool.temporaryFile("thrower.js", "var mw = new TykJS.TykMiddleware.NewMiddleware({});\nmw.NewProcessRequest(function (r) {\n  throw new Error('no session');\n});\n")
        defer { CommandLineTool.removeTemporaryFile(thrower) }
        let thrown = try await CommandLineTool.run(["plugin", "run", thrower, "--request", "examples/requests/get.json"])
        #expect(thrown.status == 1)
        #expect(thrown.stderr.contains("threw at \(thrower):3: Error: no session"), "stderr: \(thrown.stderr)")

        let looper = try CommandLineTool.temporaryFile("loop.js", "var mw = new TykJS.TykMiddleware.NewMiddleware({});\nmw.NewProcessRequest(function (r) { while (true) {} });\n")
        defer { CommandLineTool.removeTemporaryFile(looper) }
        let started = Date()
        let looped = try await CommandLineTool.run(["plugin", "run", looper, "--request", "examples/requests/get.json", "--timeout", "0.3"])
        #expect(looped.status == 1)
        #expect(looped.stderr.contains("longer than 0.3 s"), "stderr: \(looped.stderr)")
        #expect(Date().timeIntervalSince(started) < 20)
    }

    @Test("Missing files and unknown hooks are usage errors, not crashes")
    func usageErrors() async throws {
        let missing = try await CommandLineTool.run(["plugin", "run", "nope.js", "--request", "examples/requests/get.json"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("cannot read plugin file 'nope.js'"), "stderr: \(missing.stderr)")
        let hook = try await CommandLineTool.run(["plugin", "run", "plugins/header-injection.js", "--request", "examples/requests/get.json", "--hook", "sideways"])
        #expect(hook.status != 0)
        #expect(hook.stderr.contains("unknown --hook 'sideways'"))
    }

    @Test("--help teaches the request fixture format")
    func help() async throws {
        let result = try await CommandLineTool.run(["plugin", "run", "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("--request"))
        #expect(result.stdout.contains("Tyk's field names"))
    }
}
