import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PortcullisTestSupport
import Testing

/// `portcullis serve` as an operator runs it: a real process on a free port.
@Suite("portcullis serve")
struct ServeCommandTests {
    @Test("Serves examples/ on the in-memory store, logs JSON lines with --log-format json, and exits cleanly on SIGTERM")
    func servesAndStops() async throws {
        let port = try RedisServer.freePort()
        let process = Process()
        process.executableURL = CommandLineTool.binary
        process.arguments = ["serve", "--port", String(port), "--log-level", "info", "--log-format", "json"]
        process.currentDirectoryURL = CommandLineTool.repositoryRoot
        process.standardOutput = FileHandle.nullDevice
        let logFile = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-serve-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: logFile)
        defer { try? FileManager.default.removeItem(at: logFile) }
        process.standardError = logHandle
        try process.run()
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var answered: String?
        for _ in 0..<100 where answered == nil {
            if let response = try? await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/hello/greet?name=Ada"),
                                                        timeout: .seconds(2)) {
                answered = String(buffer: try await response.body.collect(upTo: 1 << 16))
            } else {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(answered?.contains("Hello, Ada!") == true)
        // The README's policy lines: a key with only apply_policies is served under the example policy.
        func call(_ path: String, method: HTTPMethod = .GET, headers: [(String, String)], body: String = "") async throws -> (UInt, String) {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
            request.method = method
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if !body.isEmpty { request.body = .bytes(ByteBuffer(string: body)) }
            let response = try await client.execute(request, timeout: .seconds(5))
            return (response.status.code, String(buffer: try await response.body.collect(upTo: 1 << 20)))
        }
        let admin = [("x-tyk-authorization", "portcullis-example-secret")]
        let created = try await call("/tyk/keys/partner-key", method: .POST, headers: admin,
                                     body: #"{"org_id": "example-org", "apply_policies": ["partner-starter"]}"#)
        #expect(created.0 == 200, "\(created.1)")
        // The example proxies to :8080; on this test's port that upstream may be absent (502), but the key got through.
        let served = try await call("/partner/greet?name=Cy", headers: [("Authorization", "partner-key")])
        #expect(served.0 == 200 || served.0 == 502, "\(served.1)")
        let refused = try await call("/partner/greet?name=Cy", headers: [("Authorization", "no-such-key")])
        #expect(refused.0 == 403)
        let shown = try await call("/tyk/keys/partner-key", headers: admin)
        #expect(shown.1.contains(#""quota_max":1000"#) && shown.1.contains(#""quota_remaining":999"#)
                && shown.1.contains(#""plan":"starter""#), "\(shown.1)")
        #expect(try await call("/tyk/policies", headers: admin).1.contains("partner-starter"))
        // The README's Tyk OAS lines: a virtual endpoint by operationId, behind the API's token auth.
        let status = try await call("/orders/status/42", headers: [("Authorization", "partner-key")])
        #expect(status.0 == 200 && status.1.contains(#""order":"42""#) && status.1.contains(#""plan":"starter""#)
                && status.1.contains(#""team":"fulfilment""#), "\(status.1)")
        #expect(try await call("/orders/status/42", headers: []).0 == 401)
        try await client.shutdown()
        process.terminate()
        var waited = 0
        while process.isRunning && waited < 200 {
            try await Task.sleep(for: .milliseconds(50))
            waited += 1
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        #expect(!process.isRunning)
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
        try logHandle.close()
        let lines = try String(contentsOf: logFile, encoding: .utf8).split(separator: "\n")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(!lines.isEmpty && objects.count == lines.count, "every line is JSON: \(lines.prefix(3))")
        #expect(objects.contains { ($0["message"] as? String)?.hasPrefix("portcullis serving") == true && $0["level"] as? String == "info" })
    }

    @Test("A bad --store is a usage error naming the accepted forms")
    func badStore() async throws {
        let result = try await CommandLineTool.run(["serve", "--store", "postgres://x"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("redis://[USER:PASSWORD@]HOST:PORT"))
    }

    @Test("Credentials Redis refuses stop serve at start with the setting named; a missing TLS file too")
    func refusedRedisSettings() async throws {
        let redis = try RedisProcess(arguments: ["--requirepass", "right-password"])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("apps"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func start(_ storage: String) async throws -> CommandLineTool.Result {
            let config = folder.appendingPathComponent("tyk.conf")
            try #"{"listen_port": 0, "secret": "s", "app_path": "\#(folder.path)/apps", "storage": \#(storage)}"#
                .write(to: config, atomically: true, encoding: .utf8)
            return try await CommandLineTool.run(["serve", "--config", config.path], timeout: 30)
        }
        let wrong = try await start(#"{"type": "redis", "host": "127.0.0.1", "port": \#(redis.port), "password": "wrong-password"}"#)
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("storage.username / storage.password") && wrong.stderr.contains("WRONGPASS"), "\(wrong.stderr)")
        let noCA = try await start(#"{"type": "redis", "port": \#(redis.port), "use_ssl": true, "ca_file": "/nonexistent/redis-ca.pem"}"#)
        #expect(noCA.status != 0)
        #expect(noCA.stderr.contains("storage.ca_file") && noCA.stderr.contains("/nonexistent/redis-ca.pem"), "\(noCA.stderr)")
        let sentinelNoAddrs = try await start(#"{"type": "redis", "master_name": "mymaster"}"#)
        #expect(sentinelNoAddrs.status != 0)
        #expect(sentinelNoAddrs.stderr.contains("storage.addrs"), "\(sentinelNoAddrs.stderr)")
    }
}
