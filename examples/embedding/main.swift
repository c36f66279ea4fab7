// Portcullis embedded in a Swift program: the program brings its own
// logger and its own store, defines an API in code, answers a request
// in-process, then serves HTTP until SIGTERM or SIGINT.
//
//   swift run PortcullisEmbeddingExample [port]      (default 8090; 0 picks a free one)

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
let gateway = try await Gateway.start(config: config, store: store, logger: logger)
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
say("stopped")
