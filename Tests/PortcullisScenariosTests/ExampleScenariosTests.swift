import Foundation
import PortcullisGateway
import PortcullisScenarios
import Testing

/// The shipped scenarios are the proof of the consistency contract: they
/// all pass under it, and exactly the ones marked `"tyk_race": "fails"`
/// fail under Tyk's race semantics.
@Suite("Example scenarios in both modes")
struct ExampleScenariosTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/scenarios").path

    @Test("Every example scenario passes under the consistency contract")
    func consistentModePasses() async throws {
        let results = await ScenarioRunner(options: .init(semantics: .consistent)).run(paths: [Self.folder])
        #expect(results.count >= 12)
        for result in results {
            switch result.outcome {
            case .passed: #expect(result.stepsRun == result.stepsTotal, "\(result.name) ran \(result.stepsRun)/\(result.stepsTotal)")
            default: Issue.record("\(result.name): \(result.outcome) \(result.failure?.message ?? "")")
            }
        }
    }

    @Test("Under --mode tyk-race exactly the race scenarios fail, each with a refused request or a stale session")
    func raceModeFailsExactlyTheRaceScenarios() async throws {
        let results = await ScenarioRunner(options: .init(semantics: .tykRace)).run(paths: [Self.folder])
        let failed = Set(results.filter { $0.outcome == .failed }.map(\.name))
        let marked = Set(results.filter { $0.underTykRace == .fails }.map(\.name))
        #expect(marked.count >= 6)
        #expect(failed == marked)
        #expect(!results.contains { $0.isError })
        for result in results where result.outcome == .failed {
            let message = result.failure?.message ?? ""
            #expect(message.contains("expected"), "\(result.name): \(message)")
        }
        let renew = try #require(results.first { $0.name == "renew-at-expiry" })
        #expect(renew.failure?.message.contains("Key has expired, please renew") == true)
    }
}
