import Foundation
import PortcullisScenarios

/// One redis-server (or sentinel) process with arbitrary options, on a
/// free loopback port, in its own folder; stopped by pid. For topologies
/// the plain ``LocalRedisServer`` does not cover: TLS, passwords, replicas
/// and sentinels.
public final class RedisProcess: @unchecked Sendable {
    public let port: Int
    public let directory: URL
    private let arguments: [String]
    private let sentinelConfig: String?
    private let lock = NSLock()
    private var process: Process?

    /// Starts `redis-server` with `arguments` after the port, bind and
    /// folder; with `sentinelConfig`, as a sentinel reading that text
    /// (its `port` line is added).
    public init(arguments: [String] = [], sentinelConfig: String? = nil, port: Int? = nil) throws {
        self.port = try port ?? LocalRedisServer.freePort()
        self.arguments = arguments
        self.sentinelConfig = sentinelConfig
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try start()
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Launches the process (again, on the same port and folder) and waits
    /// until the port accepts connections.
    public func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: LocalRedisServer.executable)
        if let sentinelConfig {
            let file = directory.appendingPathComponent("sentinel.conf")
            if !FileManager.default.fileExists(atPath: file.path) {
                try ("port \(port)\nbind 127.0.0.1\ndir \(directory.path)\n" + sentinelConfig).write(to: file, atomically: true, encoding: .utf8)
            }
            // Debian's redis-sentinel, else the same program as redis-server --sentinel.
            let sentinel = LocalRedisServer.locate("redis-sentinel")
            if FileManager.default.isExecutableFile(atPath: sentinel) {
                process.executableURL = URL(fileURLWithPath: sentinel)
                process.arguments = [file.path]
            } else {
                process.arguments = [file.path, "--sentinel"]
            }
        } else {
            process.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                 "--dir", directory.path] + arguments
        }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        lock.withLock { self.process = process }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let fd = LoopbackSocket.connect(port: port, receiveTimeoutSeconds: 1) {
                close(fd)
                return
            }
            usleep(20_000)
        }
        throw LocalRedisServer.Failure.didNotStart(port: port)
    }

    /// SIGKILL by pid, and wait for the exit.
    public func kill() {
        let running = lock.withLock { () -> Process? in
            defer { process = nil }
            return process
        }
        guard let running, running.isRunning else { return }
        _ = Glibc.kill(running.processIdentifier, SIGKILL)
        running.waitUntilExit()
    }

    /// Stops the process (SIGSTOP) until ``resume()``: it takes nothing off
    /// its sockets, so a replica falls behind its primary.
    public func pause() {
        if let pid = lock.withLock({ process?.processIdentifier }) { _ = Glibc.kill(pid, SIGSTOP) }
    }

    /// Lets a paused process run again (SIGCONT).
    public func resume() {
        if let pid = lock.withLock({ process?.processIdentifier }) { _ = Glibc.kill(pid, SIGCONT) }
    }

    /// `redis-cli` against this process (plain TCP), trimmed output.
    public func cli(_ arguments: [String]) throws -> String {
        try ToolRun.output(LocalRedisServer.locate("redis-cli"), ["-h", "127.0.0.1", "-p", String(port)] + arguments).output
    }
}

/// One primary, one replica and three sentinels on loopback, the
/// smallest Sentinel deployment that can fail over: quorum 2, a primary
/// counted down after `downAfterMilliseconds`.
public final class RedisSentinelGroup: @unchecked Sendable {
    public static let masterName = "portcullis-primary"
    public let primary: RedisProcess
    public let replica: RedisProcess
    public let sentinels: [RedisProcess]

    public init(downAfterMilliseconds: Int = 1000) throws {
        primary = try RedisProcess()
        replica = try RedisProcess(arguments: ["--replicaof", "127.0.0.1", String(primary.port)])
        let config = """
        sentinel monitor \(Self.masterName) 127.0.0.1 \(primary.port) 2
        sentinel down-after-milliseconds \(Self.masterName) \(downAfterMilliseconds)
        sentinel failover-timeout \(Self.masterName) 5000
        sentinel parallel-syncs \(Self.masterName) 1
        """
        sentinels = try (0..<3).map { _ in try RedisProcess(sentinelConfig: config) }
    }

    /// The sentinels as `storage.addrs`.
    public var addresses: [String] { sentinels.map { "127.0.0.1:\($0.port)" } }

    /// The primary's port as the sentinels see it now (nil if none answers).
    public func primaryPort() -> Int? {
        for sentinel in sentinels {
            let answer = (try? sentinel.cli(["SENTINEL", "get-master-addr-by-name", Self.masterName])) ?? ""
            let lines = answer.split(separator: "\n").map(String.init)
            if lines.count == 2, let port = Int(lines[1]) { return port }
        }
        return nil
    }

    /// Waits until the sentinels know the replica and each other, so a failover can happen.
    public func waitUntilReady(timeout: TimeInterval = 20) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let ready = sentinels.allSatisfy { sentinel in
                let info = (try? sentinel.cli(["SENTINEL", "master", Self.masterName])) ?? ""
                let lines = info.split(separator: "\n").map(String.init)
                func value(_ name: String) -> Int? {
                    guard let index = lines.firstIndex(of: name), index + 1 < lines.count else { return nil }
                    return Int(lines[index + 1])
                }
                return (value("num-slaves") ?? 0) >= 1 && (value("num-other-sentinels") ?? 0) >= 2
            }
            let synced = (try? replica.cli(["INFO", "replication"]))?.contains("master_link_status:up") == true
            if ready && synced { return }
            usleep(100_000)
        }
        throw LocalRedisServer.Failure.didNotStart(port: primary.port)
    }

    /// The process serving `port`, of the two data servers.
    public func server(on port: Int) -> RedisProcess? {
        [primary, replica].first { $0.port == port }
    }
}
