import Glibc
import PortcullisCore
import NIOCore

/// A plain TCP connection to Redis driven by blocking system calls, for a
/// thread that may block (`PortcullisCore.BlockingThread`): the command is
/// written and its reply read on the calling thread, with no event loop in
/// between. Once connected the socket blocks, and each wait is bounded by
/// the kernel's socket timeouts (`SO_RCVTIMEO`, `SO_SNDTIMEO`) set to what
/// is left of the command timeout: a command costs one `send` and, for a
/// reply that arrives in one piece, one `recv`, with no `poll` between.
/// On a thread with work for the wait (a JS worker with nested calls on),
/// the first `recv` does not wait: when nothing has arrived yet, the
/// thread is offered the wait (`BlockingThread.offerWaitingTime()`, where
/// the worker runs another call) before a second one waits for the reply.
///
/// Used by one thread at a time (``BlockingRedisLinks`` lends it out).
/// After any failure it is broken: it closes its socket and must not be
/// used again, because a late reply would answer the next command.
final class BlockingRedisConnection: @unchecked Sendable {
    let address: RedisAddress
    private var descriptor: Int32
    private var input = ByteBufferAllocator().buffer(capacity: 4096)
    private let parser = RESPParser()
    private let commandTimeout: Double
    private var output = ByteBufferAllocator().buffer(capacity: 1024)
    /// The socket timeouts now set, in seconds; a wait that follows a
    /// partial transfer lowers them to what is left of its deadline.
    private var receiveTimeout = 0.0
    private var sendTimeout = 0.0

    /// Whether the connection failed and was closed.
    var isBroken: Bool { descriptor < 0 }

    private init(address: RedisAddress, descriptor: Int32, commandTimeout: Double) {
        self.address = address
        self.descriptor = descriptor
        self.commandTimeout = commandTimeout
    }

    deinit { close() }

    /// Connects to `address` within `connectTimeout` seconds.
    static func connect(to address: RedisAddress, connectTimeout: Double, commandTimeout: Double) throws -> BlockingRedisConnection {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(address.host, String(address.port), &hints, &found)
        guard status == 0, let first = found else {
            throw SessionStoreError.unavailable(reason: "cannot connect to \(address): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(first) }
        let deadline = NIODeadline.now() + .nanoseconds(Int64(connectTimeout * 1e9))
        var lastError: Int32 = ECONNREFUSED
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let entry = candidate {
            candidate = entry.pointee.ai_next
            let opened = openSocket(entry.pointee, deadline: deadline)
            guard opened >= 0 else {
                lastError = -opened
                continue
            }
            let flags = fcntl(opened, F_GETFL)
            guard flags >= 0, fcntl(opened, F_SETFL, flags & ~O_NONBLOCK) == 0 else {
                lastError = errno
                _ = Glibc.close(opened)
                continue
            }
            let connection = BlockingRedisConnection(address: address, descriptor: opened, commandTimeout: commandTimeout)
            connection.setTimeout(SO_RCVTIMEO, seconds: commandTimeout, current: &connection.receiveTimeout)
            connection.setTimeout(SO_SNDTIMEO, seconds: commandTimeout, current: &connection.sendTimeout)
            return connection
        }
        let reason = lastError == ETIMEDOUT ? "connect timed out after \(connectTimeout) s" : String(cString: strerror(lastError))
        throw SessionStoreError.unavailable(reason: "cannot connect to \(address): \(reason)")
    }

    /// A connected socket, or the negated `errno` of the failure.
    private static func openSocket(_ entry: addrinfo, deadline: NIODeadline) -> Int32 {
        let type = Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue)
        let descriptor = socket(entry.ai_family, type, 0)
        guard descriptor >= 0 else { return -errno }
        var on: Int32 = 1
        _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        if Glibc.connect(descriptor, entry.ai_addr, entry.ai_addrlen) != 0 {
            guard errno == EINPROGRESS else {
                let code = errno
                _ = Glibc.close(descriptor)
                return -code
            }
            guard wait(descriptor, for: Int16(POLLOUT), until: deadline) else {
                _ = Glibc.close(descriptor)
                return -ETIMEDOUT
            }
            var code: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &code, &length)
            guard code == 0 else {
                _ = Glibc.close(descriptor)
                return -code
            }
        }
        return descriptor
    }

    /// Waits until `descriptor` is ready for `events` or `deadline` passes.
    private static func wait(_ descriptor: Int32, for events: Int16, until deadline: NIODeadline) -> Bool {
        while true {
            let left = deadline - NIODeadline.now()
            guard left.nanoseconds > 0 else { return false }
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let milliseconds = Int32(clamping: (left.nanoseconds + 999_999) / 1_000_000)
            let ready = poll(&entry, 1, milliseconds)
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return true }
        }
    }

    /// Sends `commands` back to back and reads one reply for each, in
    /// order. Throws ``SessionStoreError`` and breaks the connection on a
    /// timeout, a closed socket or bytes that are not RESP.
    func send(_ commands: [[String]]) throws -> [RESPValue] {
        guard descriptor >= 0 else { throw SessionStoreError.unavailable(reason: "connection to \(address) is closed") }
        output.clear()
        for command in commands { RESPEncoder.encodeCommand(command, into: &output) }
        let name = commands.first?.first ?? "?"
        do {
            try write(name)
            var replies: [RESPValue] = []
            replies.reserveCapacity(commands.count)
            for command in commands { replies.append(try read(command.first ?? "?")) }
            return replies
        } catch {
            close()
            throw error
        }
    }

    /// Sends one command and reads its reply.
    func send(_ command: [String]) throws -> RESPValue {
        guard let reply = try send([command]).first else { throw SessionStoreError.badReply(command: command.first ?? "?", reason: "no reply") }
        return reply
    }

    private func write(_ name: String) throws {
        let deadline = NIODeadline.now() + .nanoseconds(Int64(commandTimeout * 1e9))
        var first = true
        while output.readableBytes > 0 {
            try boundWait(SO_SNDTIMEO, first: first, until: deadline, current: &sendTimeout, command: name)
            first = false
            let sent = output.withUnsafeReadableBytes { bytes in
                Glibc.send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                output.moveReaderIndex(forwardBy: sent)
                continue
            }
            let code = errno
            if sent < 0, code == EINTR { continue }
            if sent < 0, code == EAGAIN || code == EWOULDBLOCK { throw SessionStoreError.timeout(command: name, seconds: commandTimeout) }
            throw SessionStoreError.unavailable(reason: "cannot send \(name) to \(address): \(String(cString: strerror(code)))")
        }
    }

    private func read(_ name: String) throws -> RESPValue {
        let deadline = NIODeadline.now() + .nanoseconds(Int64(commandTimeout * 1e9))
        var first = true
        // A thread with nothing to do meanwhile waits for the reply at once.
        var offered = !BlockingThread.hasWaitingWork
        while true {
            do {
                if let value = try parser.parse(&input) {
                    input.discardReadBytes()
                    return value
                }
            } catch let error as RESPParseError {
                throw SessionStoreError.badReply(command: "(stream)", reason: error.description)
            }
            if offered {
                try boundWait(SO_RCVTIMEO, first: first, until: deadline, current: &receiveTimeout, command: name)
                first = false
            }
            var received = 0
            var code: Int32 = 0
            let flags = offered ? Int32(0) : Int32(MSG_DONTWAIT)
            input.writeWithUnsafeMutableBytes(minimumWritableBytes: 4096) { bytes in
                received = recv(descriptor, bytes.baseAddress, bytes.count, flags)
                code = errno
                return max(0, received)
            }
            if received > 0 { continue }
            if !offered, received < 0, code == EAGAIN || code == EWOULDBLOCK {
                // Nothing yet: the thread may do other work before it sleeps.
                offered = true
                BlockingThread.offerWaitingTime()
                continue
            }
            if received == 0 { throw SessionStoreError.unavailable(reason: "connection to \(address) closed") }
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { throw SessionStoreError.timeout(command: name, seconds: commandTimeout) }
            throw SessionStoreError.unavailable(reason: "connection to \(address) failed: \(String(cString: strerror(code)))")
        }
    }

    /// Sets the socket's `option` timeout for a command's next wait: the
    /// whole command timeout for its first one (restored when an earlier
    /// command lowered it), and after a partial transfer only what is left
    /// until `deadline`. Throws the command's timeout when nothing is left
    /// (a zero socket timeout would mean waiting forever).
    private func boundWait(_ option: Int32, first: Bool, until deadline: NIODeadline, current: inout Double, command: String) throws {
        guard !first else {
            if current != commandTimeout { setTimeout(option, seconds: commandTimeout, current: &current) }
            return
        }
        let left = Double((deadline - NIODeadline.now()).nanoseconds) / 1e9
        guard left >= 1e-6 else { throw SessionStoreError.timeout(command: command, seconds: commandTimeout) }
        setTimeout(option, seconds: left, current: &current)
    }

    private func setTimeout(_ option: Int32, seconds: Double, current: inout Double) {
        let micros = max(1, Int64(seconds * 1e6))
        var value = timeval(tv_sec: Int(micros / 1_000_000), tv_usec: Int(micros % 1_000_000))
        _ = setsockopt(descriptor, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size))
        current = seconds
    }

    /// Whether an idle connection can no longer be used: the server closed
    /// it (Redis's `timeout`, a proxy dropping idle connections) or sent
    /// bytes nobody asked for. Checked before each lending, so a command is
    /// never sent on a connection that is already gone.
    var isStale: Bool {
        guard descriptor >= 0 else { return true }
        var byte: UInt8 = 0
        let peeked = recv(descriptor, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        if peeked >= 0 { return true }
        return errno != EAGAIN && errno != EWOULDBLOCK
    }

    /// Closes the socket; the connection is broken from then on.
    func close() {
        guard descriptor >= 0 else { return }
        _ = Glibc.close(descriptor)
        descriptor = -1
    }
}
