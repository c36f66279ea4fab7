import AsyncHTTPClient
import Foundation
import NIOCore
import PortcullisTestSupport
import Testing

/// `portcullis serve` as a process: SIGTERM drains requests in flight;
/// `/tyk/reload` under load swaps plugins without dropping a request; a
/// hundred reloads leave memory flat (Tyk issue 4214: OOM after hot
/// reloads with the JSVM on).
@Suite("Reload and shutdown of a running gateway", .serialized)
struct ReloadAndShutdownTests {
    final class Node: @unchecked Sendable {
        let process = Process()
        let port: Int
        let folder: URL
        let upstream: TestUpstream

        init(plugin: String, arguments: [String] = []) async throws {
            upstream = try await TestUpstream.start()
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-node-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("apps"), withIntermediateDirectories: true)
            port = try RedisServer.freePort()
            try #"{"listen_port": \#(port), "secret": "s3cret", "app_path": "\#(folder.path)/apps", "jsvm_timeout": 5}"#
                .write(to: folder.appendingPathComponent("tyk.conf"), atomically: true, encoding: .utf8)
            try #"""
            {"api_id": "tagged", "use_keyless": true,
             "proxy": {"listen_path": "/t/", "target_url": "\#(upstream.base)/", "strip_listen_path": true},
             "custom_middleware": {"driver": "otto", "pre": [{"name": "tagger", "path": "\#(folder.path)/tagger.js"}]}}
            """#.write(to: folder.appendingPathComponent("apps/t.json"), atomically: true, encoding: .utf8)
            try writePlugin(plugin)
            process.executableURL = CommandLineTool.binary
            process.arguments = ["serve", "--config", folder.appendingPathComponent("tyk.conf").path, "--log-level", "error"] + arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        func writePlugin(_ tag: String) throws {
            try """
            var tagger = new TykJS.TykMiddleware.NewMiddleware({});
            tagger.NewProcessRequest(function (request, session, config) {
                request.SetHeaders["X-Version"] = "\(tag)";
                return tagger.ReturnData(request, {});
            });
            """.write(to: folder.appendingPathComponent("tagger.js"), atomically: true, encoding: .utf8)
        }

        /// Resident memory of the gateway process, from /proc.
        var rssKiB: Int {
            let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
            let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }

        func waitUntilServing(_ client: HTTPClient) async throws {
            for _ in 0..<150 {
                if (try? await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/hello"), timeout: .seconds(1)))?.status == .ok { return }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw CancellationError()
        }

        func stop() async {
            if process.isRunning { process.terminate() }
            for _ in 0..<200 where process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            await upstream.stop()
            try? FileManager.default.removeItem(at: folder)
        }
    }

    static func get(_ client: HTTPClient, _ url: String, secret: Bool = false) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url)
        if secret { request.headers.add(name: "x-tyk-authorization", value: "s3cret") }
        let response = try await client.execute(request, timeout: .seconds(30))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    @Test("--watch: a changed plugin serves without /tyk/reload; a broken plugin or definition keeps the old version serving")
    func watch() async throws {
        let node = try await Node(plugin: "v0", arguments: ["--watch"])
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        try await node.waitUntilServing(client)
        let url = "http://127.0.0.1:\(node.port)/t/echo"
        func version() async throws -> String? {
            let (status, body) = try await Self.get(client, url)
            guard status == 200, let range = body.range(of: #""x-version":"[^"]*""#, options: .regularExpression) else { return nil }
            return String(body[range]).split(separator: ":").last.map { $0.replacingOccurrences(of: "\"", with: "") }
        }
        func waitFor(_ expected: String) async throws -> Bool {
            for _ in 0..<100 {
                if try await version() == expected { return true }
                try await Task.sleep(for: .milliseconds(100))
            }
            return false
        }
        #expect(try await version() == "v0")
        try node.writePlugin("v1")
        #expect(try await waitFor("v1"), "the edited plugin is served within 10 s")

        try "var tagger = new TykJS.TykMiddleware.NewMiddleware({});\ntagger.NewProcessRequest(function (request {"
            .write(to: node.folder.appendingPathComponent("tagger.js"), atomically: true, encoding: .utf8)
        try await Task.sleep(for: .milliseconds(2500))
        #expect(try await version() == "v1", "a plugin with a syntax error leaves the old version serving")

        try node.writePlugin("v2")
        #expect(try await waitFor("v2"))
        let definition = node.folder.appendingPathComponent("apps/t.json")
        let good = try String(contentsOf: definition, encoding: .utf8)
        try "{\"api_id\": \"tagged\", ".write(to: definition, atomically: true, encoding: .utf8)
        try await Task.sleep(for: .milliseconds(2500))
        #expect(try await version() == "v2", "a definition that no longer parses leaves the old version serving")
        try good.write(to: definition, atomically: true, encoding: .utf8)
        try node.writePlugin("v3")
        #expect(try await waitFor("v3"))
        try await client.shutdown()
        await node.stop()
    }

    @Test("SIGTERM lets a request in flight finish, then the process exits 0")
    func drainsOnSigterm() async throws {
        let node = try await Node(plugin: "v1")
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        try await node.waitUntilServing(client)
        let slow = Task { try await Self.get(client, "http://127.0.0.1:\(node.port)/t/slow") }
        try await Task.sleep(for: .milliseconds(700))
        node.process.terminate()
        let (status, _) = try await slow.value
        #expect(status == 200, "the request that was in flight is answered")
        for _ in 0..<200 where node.process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!node.process.isRunning)
        #expect(node.process.terminationStatus == 0)
        try await client.shutdown()
        await node.stop()
    }

    @Test("20 reloads under 4-way load drop no request; 100 more reloads keep RSS flat")
    func reloads() async throws {
        let node = try await Node(plugin: "v0")
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        try await node.waitUntilServing(client)
        let url = "http://127.0.0.1:\(node.port)/t/echo"
        let stop = LockedCounter()
        let load = Task {
            try await withThrowingTaskGroup(of: [Int: Int].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        var statuses: [Int: Int] = [:]
                        while stop.value == 0 {
                            let (status, _) = try await Self.get(client, url)
                            statuses[status, default: 0] += 1
                        }
                        return statuses
                    }
                }
                var merged: [Int: Int] = [:]
                for try await part in group { merged.merge(part, uniquingKeysWith: +) }
                return merged
            }
        }
        var versions = Set<String>()
        for round in 1...20 {
            try node.writePlugin("v\(round)")
            let (status, body) = try await Self.get(client, "http://127.0.0.1:\(node.port)/tyk/reload", secret: true)
            #expect(status == 200, "\(body)")
            let (_, echoed) = try await Self.get(client, url)
            if let range = echoed.range(of: #""x-version":"v\d+""#, options: .regularExpression) { versions.insert(String(echoed[range])) }
        }
        _ = stop.next(below: 1)
        let statuses = try await load.value
        #expect(Set(statuses.keys) == [200], "every request under reload was served: \(statuses)")
        #expect(versions.count >= 15, "the new plugin version served after each reload: \(versions.count)")

        func reloadBatch(_ count: Int, _ label: String) async throws {
            for round in 0..<count {
                try node.writePlugin("\(label)\(round)")
                _ = try await Self.get(client, "http://127.0.0.1:\(node.port)/tyk/reload", secret: true)
                _ = try await Self.get(client, url)
            }
            try await Task.sleep(for: .milliseconds(300))
        }
        try await reloadBatch(100, "warm")
        let before = node.rssKiB
        try await reloadBatch(100, "r")
        var after = node.rssKiB
        var grown = after - before
        print("RSS across 100 reloads after 120 warm-up reloads: \(before) KiB -> \(after) KiB "
              + "(\(statuses.values.reduce(0, +)) requests served during the first 20 reloads)")
        if grown >= 32 * 1024 {
            // One batch can raise the JS heap's and the allocator's high-water
            // mark (3, 14 and 34 MiB in three runs of the same build); a leak
            // grows again in the next batch.
            let middle = after
            try await reloadBatch(100, "s")
            after = node.rssKiB
            grown = min(grown, after - middle)
            print("RSS across 100 more reloads: \(middle) KiB -> \(after) KiB")
        }
        #expect(before > 0 && after > 0)
        #expect(grown < 32 * 1024, "RSS grew \(grown) KiB over 100 reloads, and again over the next 100")
        try await client.shutdown()
        await node.stop()
    }
}
