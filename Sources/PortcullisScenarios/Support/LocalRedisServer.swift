import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A real `redis-server` for one test: started on a free loopback port,
/// ready once it answers PING, killed by pid when done. It can be killed
/// mid-test and restarted on the same port (with `persistent`, from its
/// append-only file, fsynced on every write).
public final class LocalRedisServer: @unchecked Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case noFreePort
        case didNotStart(port: Int)
        public var description: String {
            switch self {
            case .noFreePort: return "could not find a free loopback port"
            case .didNotStart(let port): return "redis-server did not answer PING on port \(port)"
            }
        }
    }

    /// `redis-server` from `PATH` (or `/usr/bin`).
    public static let executable = locate("redis-server")

    /// Whether `redis-server` is installed.
    public static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    /// A Redis tool (`redis-server`, `redis-cli`) from `PATH`, else `/usr/bin`.
    public static func locate(_ name: String) -> String {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin"]
        for folder in folders where FileManager.default.isExecutableFile(atPath: folder + "/" + name) {
            return folder + "/" + name
        }
        return "/usr/bin/" + name
    }

    public let port: Int
    public let persistent: Bool
    private let directory: URL
    private let lock = NSLock()
    private var process: Process?

    /// Starts a server on a fresh port.
    public init(persistent: Bool = false) throws {
        self.port = try Self.freePort()
        self.persistent = persistent
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try start()
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Launches redis-server (again) on `port` and waits for PING.
    public func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        var arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", directory.path]
        arguments += persistent ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        lock.withLock { self.process = process }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if Self.ping(port: port) { return }
            usleep(20_000)
        }
        throw Failure.didNotStart(port: port)
    }

    /// Kills the server (SIGKILL) by pid and waits for it to exit.
    public func kill() {
        let running = lock.withLock { () -> Process? in
            defer { process = nil }
            return process
        }
        guard let running, running.isRunning else { return }
        _ = Glibc.kill(running.processIdentifier, SIGKILL)
        running.waitUntilExit()
    }

    /// The pid of the running server, if any.
    public var pid: Int32? {
        lock.withLock { process?.processIdentifier }
    }

    /// Runs `redis-cli` against this server and returns its output (trimmed).
    public func cli(_ arguments: String...) throws -> String {
        try ToolRun.output(Self.locate("redis-cli"), ["-h", "127.0.0.1", "-p", String(port)] + arguments).output
    }

    /// A port the kernel just handed out for 127.0.0.1 (bound, read, closed).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure.noFreePort }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw Failure.noFreePort }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw Failure.noFreePort }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something on `port` answers `PING` with `+PONG`.
    public static func ping(port: Int) -> Bool {
        guard let fd = LoopbackSocket.connect(port: port, receiveTimeoutSeconds: 1) else { return false }
        defer { close(fd) }
        let request = Array("PING\r\n".utf8)
        guard send(fd, request, request.count, 0) == request.count else { return false }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return false }
        return String(decoding: buffer[0..<count], as: UTF8.self).hasPrefix("+PONG")
    }
}

/// Runs a command-line tool to its end: its exit status and its standard
/// output, trimmed (standard error is dropped). For the tools tests and the
/// scenario runner drive: `redis-cli`, `openssl`, `curl`.
public enum ToolRun {
    /// Runs `executable` (a path, or a name looked up through `/usr/bin/env`) with `arguments`.
    public static func output(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        if executable.hasPrefix("/") {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
