import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Plain blocking TCP to 127.0.0.1, for probing servers and sending bytes
/// no HTTP client would send. Callers own the descriptor and close it.
public enum LoopbackSocket {
    /// A socket connected to 127.0.0.1:`port` whose reads give up after
    /// `receiveTimeoutSeconds`; nil when nothing accepts the connection.
    public static func connect(port: Int, receiveTimeoutSeconds: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// Sends `bytes` and returns everything received until the peer closes
    /// or `receiveTimeoutSeconds` pass without data.
    /// ``exchange(port:bytes:receiveTimeoutSeconds:)`` on a thread of its
    /// own, so waiting for the server does not hold one of the few threads
    /// of Swift's cooperative pool that everything else in the process needs.
    public static func exchangeOnOwnThread(port: Int, bytes: [UInt8], receiveTimeoutSeconds: Int = 2) async -> [UInt8]? {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: exchange(port: port, bytes: bytes, receiveTimeoutSeconds: receiveTimeoutSeconds))
            }
            thread.start()
        }
    }

    public static func exchange(port: Int, bytes: [UInt8], receiveTimeoutSeconds: Int = 2) -> [UInt8]? {
        guard let fd = connect(port: port, receiveTimeoutSeconds: receiveTimeoutSeconds) else { return nil }
        defer { close(fd) }
        _ = send(fd, bytes, bytes.count, 0)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        return received
    }
}
