import Logging

/// The request a worker is running JS for right now: which host the bindings
/// talk to, and where log lines go. Owned by one worker thread and shared by
/// its realms, so bindings installed once per context serve every request.
final class CallScope {
    /// One call in progress.
    struct Invocation {
        var handler: String
        var host: (any PluginHost)?
        var httpTimeoutSeconds: Double
        var logs: [PluginLogLine] = []
        /// The `fetch()` calls this call started; made by the first one, so
        /// calls that never fetch pay nothing for it.
        var fetches: FetchTracker?
    }

    var current: Invocation?
    /// Set when the prelude saw the number of globals change during a
    /// synchronous middleware call; cleared before each call.
    var globalsMoved = false
    /// What the prelude's entry point found on the handler when its
    /// `DoProcessRequest` was not the prelude's: nil when it was, true for
    /// a function of the handler's own, false for no function at all.
    /// Cleared before each call.
    var ownMethod: Bool?
    let logger: Logger
    /// Whether this worker is blocked on I/O, for the engine's dispatch.
    let activity: WorkerActivity
    /// The executor this thread's binding waits run their work on.
    private let waits = CallingThreadExecutor()

    init(logger: Logger, activity: WorkerActivity = WorkerActivity()) {
        self.logger = logger
        self.activity = activity
    }

    /// Blocks this worker thread until `work` finishes (see ``BlockingBridge``),
    /// marked as waiting on `wait` meanwhile so new calls go to another worker.
    func block<T: Sendable>(on wait: WorkerActivity.Wait, _ work: @escaping @Sendable () async throws -> T) throws -> T {
        bridged += 1
        defer { bridged -= 1 }
        return try waiting(on: wait) { try BlockingBridge.wait(reusing: waits, work) }
    }

    /// Whether this thread is running a task's jobs for a binding
    /// (``block(on:_:)``): no other call may start inside those.
    var isBridging: Bool { bridged > 0 }
    private var bridged = 0

    /// Runs `body`, which may block this thread on I/O itself (a store
    /// command a worker sends on its own connection), marked as waiting on
    /// `wait` as ``block(on:_:)`` marks it.
    func waiting<T>(on wait: WorkerActivity.Wait, _ body: () throws -> T) rethrows -> T {
        activity.enterWait(wait)
        defer { activity.leaveWait(wait) }
        return try body()
    }

    /// The name used in log lines for the running code.
    var handlerName: String { current?.handler ?? "plugin-load" }

    /// Longest line passed on, in bytes; a plugin logging a megabyte gets
    /// its first 16 KiB and a note of the full size.
    static let maxLineBytes = 16 * 1024
    /// Most lines kept per call for tools (all are still logged).
    static let maxLinesKept = 1000

    /// Records a line the plugin logged and forwards it to the gateway log.
    func record(_ original: PluginLogLine) {
        var line = original
        let size = line.message.utf8.count
        if size > Self.maxLineBytes {
            let head = String(decoding: line.message.utf8.prefix(Self.maxLineBytes), as: UTF8.self)
            line.message = head + "… [truncated: \(size) bytes in all]"
        }
        var metadata: Logger.Metadata = ["prefix": "jsvm", "plugin": .string(handlerName)]
        if let extra = current?.host?.logMetadata { metadata.merge(extra) { mine, _ in mine } }
        switch line.kind {
        case .log:
            metadata["type"] = "log-msg"
            logger.info("\(line.message)", metadata: metadata)
        case .raw:
            logger.info("\(line.message)", metadata: metadata.merging(["type": "rawlog"]) { $1 })
        case .warning:
            logger.warning("\(line.message)", metadata: metadata)
        case .debug:
            logger.debug("\(line.message)", metadata: metadata.merging(["type": "log-msg"]) { $1 })
        case .info:
            logger.info("\(line.message)", metadata: metadata.merging(["type": "log-msg"]) { $1 })
        case .warn:
            logger.warning("\(line.message)", metadata: metadata.merging(["type": "log-msg"]) { $1 })
        case .error:
            logger.error("\(line.message)", metadata: metadata.merging(["type": "log-msg"]) { $1 })
        }
        if (current?.logs.count ?? 0) < Self.maxLinesKept { current?.logs.append(line) }
    }

    /// The current call's fetch tracker, made on first use; nil outside a call.
    func fetchTracker() -> FetchTracker? {
        guard current != nil else { return nil }
        if let existing = current?.fetches { return existing }
        let made = FetchTracker()
        current?.fetches = made
        return made
    }

    /// The host for a binding that needs one; load-time code has none.
    func requireHost(_ binding: String) throws -> any PluginHost {
        guard let host = current?.host else {
            throw NativeFunctionError("\(binding) is not available while plugin files load; call it from a handler")
        }
        return host
    }
}
