import AsyncHTTPClient
import Foundation
import Testing

/// examples/embedding, built with the package: a Swift program that brings
/// its own logger and store, answers in-process, reloads, serves HTTP and
/// stops cleanly on SIGTERM.
@Suite("Embedding example")
struct EmbeddingExampleTests {
    @Test("The example serves its API in-process and over HTTP with its own logger and metrics backend, and exits 0 on SIGTERM")
    func runsTheExample() async throws {
        let binary = CommandLineTool.binary.deletingLastPathComponent().appendingPathComponent("PortcullisEmbeddingExample")
        #expect(FileManager.default.isExecutableFile(atPath: binary.path), "built by swift build --build-tests")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-embedding-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outFile = folder.appendingPathComponent("stdout")
        let errFile = folder.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
        let process = Process()
        process.executableURL = binary
        process.arguments = ["0"]
        process.standardOutput = try FileHandle(forWritingTo: outFile)
        process.standardError = try FileHandle(forWritingTo: errFile)
        try process.run()
        func output() -> [String] {
            ((try? String(contentsOf: outFile, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        var port: Int?
        for _ in 0..<300 where port == nil {
            port = output().first { $0.hasPrefix("listening on ") }.flatMap { Int($0.dropFirst("listening on ".count)) }
            if port == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let lines = output()
        #expect(lines.contains { $0.hasPrefix("in-process: 200") && $0.contains("from the embedded gateway") }, "\(lines)")
        #expect(lines.contains("reloaded: 1 API(s), 0 refused"), "\(lines)")
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        if let port {
            let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/embedded/hello"), timeout: .seconds(10))
            #expect(response.status.code == 200)
            #expect(String(buffer: try await response.body.collect(upTo: 1 << 16)).contains("from the embedded gateway"))
            let scrape = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(10))
            #expect(scrape.status.code == 404, "metrics go to the host's backend, not /metrics")
        } else {
            Issue.record("the example never said where it listens: \(lines)")
        }
        try await client.shutdown()
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<200 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(output().contains("stopped"), "\(output())")
        // One request in-process, one over HTTP: both counted on the host's own backend.
        #expect(output().contains("host metrics: portcullis_requests_total{api_id=embedded,code=200} 2"), "\(output())")
        let log = (try? String(contentsOf: errFile, encoding: .utf8)) ?? ""
        #expect(log.contains("[host] info loaded 1 API(s)"), "the gateway logs through the host's handler: \(log.prefix(300))")
    }
}
