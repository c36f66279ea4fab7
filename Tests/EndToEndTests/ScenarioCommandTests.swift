import AsyncHTTPClient
import Foundation
import PortcullisTestSupport
import Testing

/// `portcullis scenario run` as users run it: the shipped scenarios in
/// both modes, a malformed file, and a live gateway as the target.
@Suite("portcullis scenario run")
struct ScenarioCommandTests {
    @Test("The example scenarios pass (exit 0) and write JUnit XML")
    func examplesPass() async throws {
        let junit = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-junit-\(UUID().uuidString).xml").path
        defer { try? FileManager.default.removeItem(atPath: junit) }
        let result = try await CommandLineTool.run(["scenario", "run", "examples/scenarios/", "--junit", junit], timeout: 120)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("renew-at-expiry"))
        #expect(result.stdout.contains("0 failed, 0 error(s)"))
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        #expect(xml.contains("<testcase classname=\"examples/scenarios/renew-at-expiry.json\" name=\"renew-at-expiry\""))
        #expect(xml.contains("failures=\"0\""))
    }

    @Test("--mode tyk-race fails the race scenarios with Tyk's 401 and exits 1")
    func raceModeFails() async throws {
        let result = try await CommandLineTool.run(["scenario", "run", "examples/scenarios/", "--mode", "tyk-race"], timeout: 120)
        #expect(result.status == 1)
        #expect(result.stdout.contains("FAIL renew-at-expiry"))
        #expect(result.stdout.contains("Key has expired, please renew"))
        #expect(result.stdout.contains("FAIL (race expected)"))
        #expect(!result.stdout.contains("FAIL lifetime-api"))
    }

    @Test("A malformed scenario exits 2 naming the file and step")
    func malformed() async throws {
        let file = try CommandLineTool.temporaryFile("broken.json", #"{"apis": [], "steps": [{"advance": 1}, {"request": {"path": "/x"}, "expect": {"status": "ok"}}]}"#)
        defer { CommandLineTool.removeTemporaryFile(file) }
        let result = try await CommandLineTool.run(["scenario", "run", file])
        #expect(result.status == 2)
        #expect(result.stdout.contains("broken.json, step 2"))
        #expect(result.stdout.contains("'expect.status'"))
        let usage = try await CommandLineTool.run(["scenario", "run", file, "--mode", "fast"])
        #expect(usage.status != 0)
        #expect(usage.stderr.contains("--mode must be one of consistent, tyk-race"))
    }

    @Test("--target runs the HTTP steps against a live gateway in real time and skips what it cannot do, with reasons")
    func liveTarget() async throws {
        let upstream = try await TestUpstream.start()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-live-\(UUID().uuidString)")
        let apps = folder.appendingPathComponent("apps")
        try FileManager.default.createDirectory(at: apps, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = try RedisServer.freePort()
        let plugin = CommandLineTool.repositoryRoot.appendingPathComponent("plugins/forum-renewal.js").path
        try #"{"listen_port": \#(port), "secret": "live-secret", "app_path": "\#(apps.path)"}"#
            .write(to: folder.appendingPathComponent("tyk.conf"), atomically: true, encoding: .utf8)
        try #"""
        {"name": "live forum", "api_id": "live-forum", "org_id": "o", "auth": {"auth_header_name": "x-session-key"},
         "proxy": {"listen_path": "/live/", "target_url": "\#(upstream.base)/", "strip_listen_path": true},
         "config_data": {"session_expires_seconds": "2", "auth_header": "x-session-key"},
         "custom_middleware": {"driver": "otto", "pre": [{"name": "forumRenewal", "path": "\#(plugin)"}]}}
        """#.write(to: apps.appendingPathComponent("live.json"), atomically: true, encoding: .utf8)
        let scenario = try CommandLineTool.temporaryFile("live.json", #"""
        {"name": "live-renewal", "apis": [], "steps": [
          {"create_key": {"key": "live-key", "session": {"expires": "{{now+2}}", "quota_max": -1,
            "access_rights": {"live-forum": {"api_id": "live-forum", "api_name": "live", "versions": ["Default"]}}}}},
          {"request": {"path": "/live/echo", "headers": {"x-session-key": "live-key"}}, "expect": {"status": 200}},
          {"advance": 3},
          {"name": "renewed by the hook", "request": {"path": "/live/echo", "headers": {"x-session-key": "live-key"}}, "expect": {"status": 200}},
          {"expect_log": {"contains": "new session"}},
          {"expect_session": {"key": "live-key", "via": "admin", "fields": {"expires": {"$gte": "{{now+1}}"}}}},
          {"advance": "1d"},
          {"request": {"path": "/live/echo", "headers": {"x-session-key": "live-key"}}, "expect": {"status": 200}}
        ]}
        """#)
        defer { CommandLineTool.removeTemporaryFile(scenario) }
        let server = Process()
        server.executableURL = CommandLineTool.binary
        server.arguments = ["serve", "--config", folder.appendingPathComponent("tyk.conf").path, "--log-level", "error"]
        server.currentDirectoryURL = CommandLineTool.repositoryRoot
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var up = false
        for _ in 0..<100 where !up {
            up = (try? await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/hello"), timeout: .seconds(1)))?.status == .ok
            if !up { try await Task.sleep(for: .milliseconds(100)) }
        }
        try await client.shutdown()
        #expect(up)
        let result = try await CommandLineTool.run(["scenario", "run", scenario, "--target", "http://127.0.0.1:\(port)",
                                                    "--admin-secret", "live-secret", "--max-real-wait", "5"], timeout: 60)
        server.terminate()
        await upstream.stop()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("live-renewal"))
        #expect(result.stdout.contains("pass (3 skipped)"))
        #expect(result.stdout.contains("step 5 \"expect_log \"new session\"\": reads the gateway's log, which --target cannot see"))
        #expect(result.stdout.contains("step 7 \"advance 86400 s\": advances the clock 24.0 h; a live gateway keeps real time"))
        #expect(result.stdout.contains("step 8: not run"))
        #expect(upstream.requestCount == 2)
        let wrongSecret = try await CommandLineTool.run(["scenario", "run", scenario, "--target", "http://127.0.0.1:1",
                                                         "--admin-secret", "x"], timeout: 30)
        #expect(wrongSecret.status == 1)
    }
}
