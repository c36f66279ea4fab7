// Portcullis embedded in a Swift program: the program brings its own
// logger, metrics backend and store, defines an API in code, answers a
// request in-process, then serves HTTP until SIGTERM or SIGINT.
//
//   swift run PortcullisEmbeddingExample [port]      (default 8090; 0 picks a free one)

import CoreMetrics
import Foundation
import Logging
import PortcullisGateway
import PortcullisSessions

/// The host program's own log format: every Portcullis line arrives here.
struct HostLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        FileHandle.standardError.write(Data("[host] \(event.level) \(event.message) \(fields)\n".utf8))
    }
}

/// The host program's own metrics backend (a stand-in for StatsD, OTLP or
/// whatever the program already uses): it keeps counter totals and timer
/// counts by label and dimensions, and prints them when the program stops.
final class HostMetrics: MetricsFactory, @unchecked Sendable {
    private let lock = NSLock()
    private var totals: [String: Int64] = [:]

    final class Handler: CounterHandler, FloatingPointCounterHandler, RecorderHandler, TimerHandler, @unchecked Sendable {
        let name: String
        let owner: HostMetrics
        init(name: String, owner: HostMetrics) { self.name = name; self.owner = owner }
        func increment(by amount: Int64) { owner.add(name, amount) }
        func increment(by amount: Double) { owner.add(name, Int64(amount)) }
        func reset() {}
        func record(_ value: Int64) {}
        func record(_ value: Double) {}
        func recordNanoseconds(_ duration: Int64) { owner.add(name + " count", 1) }
    }

    func add(_ name: String, _ amount: Int64) {
        lock.withLock { totals[name, default: 0] += amount }
    }

    /// Every total, one `name{dimensions} value` per line, sorted.
    var report: [String] {
        lock.withLock { totals.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" } }
    }

    private func handler(_ label: String, _ dimensions: [(String, String)]) -> Handler {
        let labels = dimensions.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        return Handler(name: dimensions.isEmpty ? label : "\(label){\(labels)}", owner: self)
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { handler(label, dimensions) }
    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        handler(label, dimensions)
    }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        handler(label, dimensions)
    }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { handler(label, dimensions) }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

/// A line on standard output, written at once (the test reads it while the program runs).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

let port = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 8090
let logger = Logger(label: "host.gateway") { _ in HostLogHandler() }

// API definitions are files in app_path, as for `portcullis serve`.
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-embedded-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: folder.appendingPathComponent("apps"), withIntermediateDirectories: true)
let plugin = folder.appendingPathComponent("hello.js")
try """
function hello(request, session, config) {
  return TykJsResponse({Body: JSON.stringify({hello: "from the embedded gateway", path: request.URL}), Code: 200,
                        Headers: {"Content-Type": "application/json"}}, {});
}
""".write(to: plugin, atomically: true, encoding: .utf8)
try """
{"name": "Embedded", "api_id": "embedded", "org_id": "host", "use_keyless": true,
 "proxy": {"listen_path": "/embedded/", "target_url": "", "strip_listen_path": true},
 "custom_middleware": {"driver": "otto"},
 "version_data": {"versions": {"Default": {"extended_paths": {"virtual": [
   {"response_function_name": "hello", "function_source_type": "file", "function_source_uri": "\(plugin.path)",
    "path": "/hello", "method": "GET"}]}}}}}
""".write(to: folder.appendingPathComponent("apps/embedded.json"), atomically: true, encoding: .utf8)

var config = GatewayConfig()
config.appPath = folder.appendingPathComponent("apps").path
config.listenPort = port
config.secret = "host-secret"

// The store is the host's choice: MemoryStore for one process, RedisStore for many.
let store = MemoryStore()
// Metrics go to the host's backend under Portcullis' names; /metrics is then not served.
let metrics = HostMetrics()
let gateway = try await Gateway.start(config: config, store: store, logger: logger, metrics: .factory(metrics))
for failure in gateway.lastLoadFailures { logger.error("\(failure)") }

// In-process, without a socket: the same pipeline a client request runs through.
let answer = await gateway.handle(method: "GET", path: "/embedded/hello", query: nil, headers: HeaderList(), body: [])
say("in-process: \(answer.status) \(String(decoding: answer.body, as: UTF8.self))")

// Reload picks up changed files; the answer lists what was refused.
let refused = await gateway.reload()
say("reloaded: \(gateway.loadedAPIs.count) API(s), \(refused.count) refused")

// Serve HTTP until SIGTERM/SIGINT; run() drains and shuts the gateway down.
try await GatewayServer(gateway: gateway).run(onListening: { port in
    say("listening on \(port)")
})
try? FileManager.default.removeItem(at: folder)
for line in metrics.report where line.hasPrefix("portcullis_requests_total") { say("host metrics: \(line)") }
say("stopped")
