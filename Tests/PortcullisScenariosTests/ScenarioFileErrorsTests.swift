import Foundation
import PortcullisScenarios
import Testing

/// A malformed scenario is refused with a message naming the file, the
/// step and the field, before anything runs.
@Suite("Malformed scenario files")
struct ScenarioFileErrorsTests {
    static let minimalAPI = #"{"name": "t", "api_id": "t", "org_id": "o", "auth": {"auth_header_name": "Authorization"}, "proxy": {"listen_path": "/t/", "target_url": "{{upstream}}/"}}"#

    static func scenario(steps: String, extra: String = "") -> String {
        #"{"name": "bad", \#(extra) "apis": [\#(minimalAPI)], "steps": [\#(steps)]}"#
    }

    static func message(_ text: String, file: String = "scenarios/bad.json") -> String {
        do {
            _ = try ScenarioParser.parse(text, file: file)
            return "parsed"
        } catch {
            return "\(error)"
        }
    }

    @Test("A step with a misspelt field names the file, the step number, its name and the field")
    func unknownField() {
        let text = Self.scenario(steps: #"{"advance": 5}, {"name": "call", "request": {"path": "/t/"}, "expct": {"status": 200}}"#)
        let error = Self.message(text)
        #expect(error.contains("scenarios/bad.json, step 2 (\"call\")"))
        #expect(error.contains("'expct'"))
        #expect(error.contains("expect"))
    }

    @Test("Wrong types name the dotted field and what was given")
    func wrongType() {
        let error = Self.message(Self.scenario(steps: #"{"request": {"path": "/t/"}, "expect": {"status": "200"}}"#))
        #expect(error.contains("step 1"))
        #expect(error.contains("'expect.status'"))
        #expect(error.contains("a string"))
    }

    @Test("A step without an action, or with two, is refused")
    func actions() {
        #expect(Self.message(Self.scenario(steps: #"{"name": "nothing"}"#)).contains("a step needs one of"))
        #expect(Self.message(Self.scenario(steps: #"{"advance": 1, "reload": true}"#)).contains("ambiguous"))
    }

    @Test("Unknown nodes, bad durations, bad matchers and store faults are refused")
    func badValues() {
        #expect(Self.message(Self.scenario(steps: #"{"request": {"path": "/t/", "node": "c"}}"#)).contains("the scenario's nodes are a"))
        #expect(Self.message(Self.scenario(steps: #"{"advance": "soon"}"#)).contains("duration"))
        #expect(Self.message(Self.scenario(steps: #"{"request": {"path": "/t/"}, "expect": {"json": {"x": {"$near": 1}}}}"#))
            .contains("unknown operator '$near'"))
        #expect(Self.message(Self.scenario(steps: #"{"store": "sideways"}"#)).contains("\"down\", \"up\""))
        #expect(Self.message(Self.scenario(steps: #"{"request": {"path": "t"}}"#)).contains("must start with /"))
        #expect(Self.message(Self.scenario(steps: #"{"expect_session": {"key": "k", "via": "carrier-pigeon"}}"#)).contains("'expect_session.via' must be one of"))
    }

    @Test("Top-level mistakes: bad JSON, missing steps, bad tyk_race")
    func topLevel() {
        #expect(Self.message("{ not json").contains("scenarios/bad.json: not valid JSON or YAML"))
        #expect(Self.message(#"{"apis": []}"#).contains("'steps'"))
        #expect(Self.message(Self.scenario(steps: #"{"advance": 1}"#, extra: #""tyk_race": "sometimes","#)).contains("'tyk_race'"))
    }

    @Test("The runner reports a malformed file as an error and still runs the others")
    func runnerKeepsGoing() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.scenario(steps: #"{"advance": "later"}"#).write(to: folder.appendingPathComponent("a-bad.json"), atomically: true, encoding: .utf8)
        try Self.scenario(steps: #"{"request": {"path": "/t/"}, "expect": {"status": 401}}"#)
            .write(to: folder.appendingPathComponent("b-good.json"), atomically: true, encoding: .utf8)
        let results = await ScenarioRunner().run(paths: [folder.path])
        #expect(results.count == 2)
        guard case .error(let message) = results[0].outcome else {
            Issue.record("expected an error, got \(results[0].outcome)")
            return
        }
        #expect(message.contains("a-bad.json, step 1"))
        #expect(results[1].outcome == .passed)
        #expect(ScenarioReport.table(results, mode: "consistent").contains("ERROR"))
    }

    @Test("A policy that is not valid names the policy and its field, at the top level and in set_policies")
    func invalidPolicies() {
        let top = Self.message(Self.scenario(steps: #"{"advance": 1}"#, extra: #""policies": {"gold": {"quota_max": "lots"}},"#))
        #expect(top.contains("'policies.gold'") && top.contains("gold.quota_max"), "\(top)")
        let step = Self.message(Self.scenario(steps: #"{"advance": 1}, {"set_policies": {"silver": {"access_rights": []}}}"#))
        #expect(step.contains("step 2") && step.contains("'set_policies.silver'") && step.contains("silver.access_rights"), "\(step)")
        #expect(Self.message(Self.scenario(steps: #"{"set_policies": {"ok": {"rate": 1, "per": 1}}}"#)) == "parsed")
    }
}
