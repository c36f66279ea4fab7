import Foundation
import Logging
import PortcullisCore
import PortcullisGateway
import Testing

/// `--log-format json`: one JSON object per line, with the request id, API
/// id, masked key and plugin name as fields a collector can filter on.
@Suite("JSON logs")
struct JSONLogTests {
    @Test("A plugin's log line and a refused request's line carry request_id, api_id, plugin and the masked key")
    func fields() async throws {
        let lines = Locked([String]())
        var logger = Logger(label: "portcullis") { label in JSONLogHandler(label: label) { line in lines.withLock { $0.append(line) } } }
        logger.logLevel = .info
        let plugin = """
        var noisy = new TykJS.TykMiddleware.NewMiddleware({});
        noisy.NewProcessRequest(function (request, session, config) {
            log.warn("checking \\"" + request.URL + "\\"");
            return noisy.ReturnData(request, {});
        });
        """
        let h = try await GatewayHarness.make(files: [
            "apps/plain.json": Fixture.tokenAPI(id: "plain", listen: "/plain/", pre: [("noisy", "noisy.js")]),
            "noisy.js": plugin,
        ], logger: logger)
        let response = await h.send("/plain/x", headers: [("Authorization", "unknown-key-4711")])
        #expect(response.status == 403)
        await h.close()

        let objects = lines.value.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.count == lines.value.count, "every line is a JSON object: \(lines.value.prefix(3))")
        let pluginLine = try #require(objects.first { ($0["message"] as? String)?.hasPrefix("checking") == true }, "\(lines.value)")
        #expect(pluginLine["message"] as? String == #"checking "/plain/x""#)
        #expect(pluginLine["level"] as? String == "warning")
        #expect(pluginLine["plugin"] as? String == "noisy")
        #expect(pluginLine["api_id"] as? String == "plain")
        let requestID = try #require(pluginLine["request_id"] as? String)
        #expect(!requestID.isEmpty)
        #expect((pluginLine["ts"] as? String)?.hasSuffix("Z") == true)
        let refused = try #require(objects.first { ($0["message"] as? String)?.hasPrefix("request error") == true }, "\(lines.value)")
        #expect(refused["request_id"] as? String == requestID, "the refusal and the plugin line share the request id")
        #expect(refused["api_id"] as? String == "plain")
        #expect(refused["key"] as? String == KeyMask.mask("unknown-key-4711"))
        #expect(!lines.value.joined().contains("unknown-key-4711"), "the raw key never appears")
    }
}
