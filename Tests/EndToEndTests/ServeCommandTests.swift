import AsyncHTTPClient
import Foundation
import PortcullisTestSupport
import Testing

/// `portcullis serve` as an operator runs it: a real process on a free port.
@Suite("portcullis serve")
struct ServeCommandTests {
    @Test("Serves examples/ on the in-memory store and exits cleanly on SIGTERM")
    func servesAndStops() async throws {
        let port = try RedisServer.freePort()
        let process = Process()
        process.executableURL = CommandLineTool.binary
        process.arguments = ["serve", "--port", String(port), "--log-level", "warning"]
        process.currentDirectoryURL = CommandLineTool.repositoryRoot
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
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
        try await client.shutdown()
        #expect(answered?.contains("Hello, Ada!") == true)
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
    }

    @Test("A bad --store is a usage error naming the accepted forms")
    func badStore() async throws {
        let result = try await CommandLineTool.run(["serve", "--store", "postgres://x"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("redis://HOST:PORT"))
    }
}
