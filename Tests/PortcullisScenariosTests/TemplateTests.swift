import PortcullisCore
import PortcullisScenarios
import Testing

@Suite("Scenario templates")
struct TemplateTests {
    let context = TemplateContext(now: 1_700_000_000, upstream: "http://127.0.0.1:9", scenarioDirectory: "/s")

    @Test("A whole {{now±duration}} string becomes an integer; inside text it is substituted")
    func now() {
        #expect(context.resolve(.string("{{now+60}}")) == .int(1_700_000_060))
        #expect(context.resolve(.string("{{ now-1d }}")) == .int(1_700_000_000 - 86400))
        #expect(context.resolve(.string("{{now+1.5h}}")) == .int(1_700_005_400))
        #expect(context.resolve(.string("at {{now}}")) == .string("at 1700000000"))
        #expect(context.resolveText("{{upstream}}/x {{scenario_dir}}") == "http://127.0.0.1:9/x /s")
        #expect(context.resolveText("{{unknown}}") == "{{unknown}}")
        #expect(context.resolve(.object(["a": .array([.string("{{now}}")])])) == .object(["a": .array([.int(1_700_000_000)])]))
    }
}
