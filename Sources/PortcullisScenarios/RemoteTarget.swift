import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PortcullisCore

/// A live gateway (Portcullis or Tyk) reached over HTTP, in real time.
/// The scenario's API definitions must already be loaded there. Steps
/// that need the virtual clock beyond `maxRealWait`, the store, a second
/// node or the gateway's logs are skipped with the reason.
final class RemoteTarget: ScenarioTarget {
    let adminSecret: String
    private let base: String
    private let client: HTTPClient
    private let maxRealWait: Double
    private let nodes: [String]
    private let requestTimeout: TimeAmount = .seconds(30)

    init(base: String, adminSecret: String, maxRealWait: Double, nodes: [String], client: HTTPClient) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.adminSecret = adminSecret
        self.maxRealWait = maxRealWait
        self.nodes = nodes
        self.client = client
    }

    func templates() -> TemplateContext {
        TemplateContext(now: Int64(Date().timeIntervalSince1970))
    }

    func send(method: String, path: String, headers: [(String, String)], body: [UInt8], node: String?) async throws -> Exchange {
        if let node, node != nodes.first {
            throw StepSkipped(reason: "needs node '\(node)'; --target reaches a single gateway")
        }
        var request = HTTPClientRequest(url: base + path)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if !body.isEmpty { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: requestTimeout)
        let collected = try await response.body.collect(upTo: 16 << 20)
        return Exchange(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                        body: Array(collected.readableBytesView))
    }

    func advance(seconds: Double) async throws {
        guard seconds <= maxRealWait else {
            throw StepSkipped(reason: "advances the clock \(Self.show(seconds)); a live gateway keeps real time "
                + "(waits up to \(Self.show(maxRealWait)) are made for real; raise --max-real-wait to allow this one)")
        }
        try await Task.sleep(for: .seconds(seconds))
    }

    func setStore(_ fault: StoreFault) async throws {
        throw StepSkipped(reason: "changes the store's health, which --target cannot reach")
    }

    func writeDirect(key: String, sessionJSON: String) async throws {
        throw StepSkipped(reason: "writes the store directly, which --target cannot reach")
    }

    func deleteDirect(key: String) async throws {
        throw StepSkipped(reason: "deletes from the store directly, which --target cannot reach")
    }

    func readDirect(key: String) async throws -> String? {
        throw StepSkipped(reason: "reads the store directly, which --target cannot reach")
    }

    func pluginKeyData(key: String, apiID: String?, node: String?) async throws -> String {
        throw StepSkipped(reason: "runs TykGetKeyData inside the gateway, which --target cannot do; use \"via\": \"admin\"")
    }

    func replacePolicies(_ json: String) async throws -> [String] {
        throw StepSkipped(reason: "replaces the gateway's policy file, which --target cannot reach")
    }

    func logMark() throws -> Int {
        throw StepSkipped(reason: "reads the gateway's log, which --target cannot see")
    }

    func logLines(since mark: Int) throws -> [CapturedLogLine] {
        throw StepSkipped(reason: "reads the gateway's log, which --target cannot see")
    }

    func close() async {}

    private static func show(_ seconds: Double) -> String {
        seconds >= 3600 ? String(format: "%.1f h", seconds / 3600) : String(format: "%.0f s", seconds)
    }
}
