import Foundation
import PortcullisScenarios
import Testing

/// Failing checks say what was expected and what came back, so a red
/// scenario can be read without re-running it.
@Suite("Scenario assertions")
struct ScenarioAssertionTests {
    static func run(_ steps: String, yaml: String? = nil, extra: String = "") async throws -> ScenarioResult {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-assert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file: URL
        if let yaml {
            file = folder.appendingPathComponent("case.yaml")
            try yaml.write(to: file, atomically: true, encoding: .utf8)
        } else {
            file = folder.appendingPathComponent("case.json")
            let text = #"{"name": "case", \#(extra) "apis": [\#(ScenarioFileErrorsTests.minimalAPI)], "steps": [\#(steps)]}"#
            try text.write(to: file, atomically: true, encoding: .utf8)
        }
        let results = await ScenarioRunner().run(paths: [file.path])
        return try #require(results.first)
    }

    static let key = #"{"create_key": {"key": "k-1", "session": {"expires": "{{now+60}}", "quota_max": -1, "meta_data": {"tier": "gold"}, "access_rights": {"t": {"api_id": "t", "api_name": "t", "versions": ["Default"]}}}}}"#

    @Test("A wrong status reports expected and actual, with the body")
    func status() async throws {
        let result = try await Self.run(#"\#(Self.key), {"name": "call", "request": {"path": "/t/echo", "headers": {"Authorization": "k-1"}}, "expect": {"status": 401}}"#)
        #expect(result.outcome == .failed)
        #expect(result.failure?.step == 2)
        #expect(result.failure?.name == "call")
        #expect(result.failure?.message.contains("status: expected 401, got 200") == true)
        #expect(result.failure?.message.contains("got 200 — body 'ok'") == true)
    }

    @Test("JSON body fields, headers and session fields report the path, expected and actual")
    func fields() async throws {
        let json = try await Self.run(#"{"request": {"path": "/t/echo"}, "expect": {"json": {"error": "Nope"}}}"#)
        #expect(json.failure?.message == "json 'error': expected \"Nope\", got \"Authorization field missing\"")
        let session = try await Self.run(#"\#(Self.key), {"expect_session": {"key": "k-1", "fields": {"meta_data.tier": "silver"}}}"#)
        #expect(session.failure?.message.contains("field 'meta_data.tier': expected \"silver\", got \"gold\" (read via admin)") == true)
        let bound = try await Self.run(#"\#(Self.key), {"advance": "1h"}, {"expect_session": {"key": "k-1", "via": "plugin", "fields": {"expires": {"$gte": "{{now}}"}}}}"#)
        #expect(bound.failure?.message.contains("expected ≥ 1700003600, got 1700000060") == true)
        let header = try await Self.run(#"{"request": {"path": "/t/echo"}, "expect": {"headers": {"X-Missing": {"$exists": true}}}}"#)
        #expect(header.failure?.message.contains("header 'X-Missing': expected the value to exist") == true)
    }

    @Test("A missing log line reports what was logged instead")
    func log() async throws {
        let result = try await Self.run(#"{"request": {"path": "/t/echo", "headers": {"Authorization": "nobody"}}, "expect": {"status": 403}}, {"expect_log": {"contains": "Key has expired"}}"#)
        #expect(result.failure?.message.contains("expected a line containing \"Key has expired\"") == true)
        #expect(result.failure?.message.contains("Access to this API has been disallowed") == true)
    }

    @Test("YAML scenarios run like JSON ones, and the clock moves a day in milliseconds")
    func yaml() async throws {
        let text = """
        name: yaml-case
        apis:
          - {name: t, api_id: t, org_id: o, auth: {auth_header_name: Authorization}, proxy: {listen_path: /t/, target_url: "{{upstream}}/"}}
        steps:
          - create_key:
              key: y-1
              session: {expires: "{{now+86400}}", quota_max: -1, access_rights: {t: {api_id: t, api_name: t, versions: [Default]}}}
          - request: {path: /t/echo, headers: {Authorization: y-1}}
            expect: {status: 200}
          - advance: 1d
          - request: {path: /t/echo, headers: {Authorization: y-1}}
            expect: {status: 200}
          - advance: 2s
          - request: {path: /t/echo, headers: {Authorization: y-1}}
            expect: {status: 401, body_contains: "Key has expired"}
        """
        let result = try await Self.run("", yaml: text)
        #expect(result.outcome == .passed, "\(result.failure?.message ?? "")")
        #expect(result.virtualSeconds == 86402)
        // A day of virtual time in well under a minute of wall time, even with every suite running at once.
        #expect(result.seconds < 30)
    }

    @Test("JUnit output carries each scenario, with the failure message")
    func junit() async throws {
        let failing = try await Self.run(#"{"request": {"path": "/t/echo"}, "expect": {"status": 204}}"#)
        let xml = ScenarioReport.junit([failing], mode: "consistent")
        #expect(xml.contains(#"<testsuite name="scenarios (consistent)" tests="1" failures="1""#))
        #expect(xml.contains("<failure message=\"step 1 &quot;GET /t/echo&quot;: status: expected 204, got 401"))
    }
}
