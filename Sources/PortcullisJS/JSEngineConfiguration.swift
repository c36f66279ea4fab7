import Logging
import PortcullisCore

/// How the JavaScript engine runs: how many worker threads, how long a
/// plugin may run, and which clock `Date` follows.
public struct JSEngineConfiguration: Sendable {
    /// Worker threads, each with its own context group (default: 2 × cores),
    /// started with the engine and kept.
    public var workerCount: Int
    /// The most worker threads the engine may run. When a call arrives and
    /// every worker has long been blocked on an outbound HTTP call, the
    /// engine adds one, so plugins that wait on a slow service do not queue
    /// behind each other. Default: 16 × cores, at least ``workerCount``.
    public var maxWorkerCount: Int
    /// How long, in seconds, a worker added past ``workerCount`` may take no
    /// call before it is stopped and its memory (a few MB) given back.
    /// Default: 60.
    public var addedWorkerIdleSeconds: Double
    /// `jsvm_timeout`: the longest one call into a plugin may run, in seconds.
    public var timeoutSeconds: Double
    /// Default timeout of `TykMakeHttpRequest`, in seconds, when the call sets none.
    public var httpTimeoutSeconds: Double
    /// The clock behind JavaScript's `Date` and `Date.now()`.
    public var clock: any GatewayClock
    /// Where plugin log lines and engine warnings go.
    public var logger: Logger
    /// `jsvm_nested_calls`: while a plugin call waits for a store reply
    /// that has not arrived, its worker runs the next queued plugin call
    /// on a second copy of the realms instead of sleeping (``JSWorker``).
    /// More requests per second for plugins that write the store on every
    /// request; one more context group per worker, so more memory. Its
    /// memory now stays flat (``heapCollectionSeconds``), but in a 16-minute
    /// two-node soak its slowest request took 1.4 and 3.8 s, against about
    /// 0.1 s without it, which is not explained yet. Default: off.
    public var nestedCalls: Bool
    /// How often, in seconds, a worker collects each of its context groups'
    /// heaps in full, between calls, when it ran calls since the last time.
    /// JavaScriptCore times its own full collections on a run loop, which
    /// worker threads do not run, so without these a heap grows by young
    /// collections alone: on the `TykSetKeyData`-every-request benchmark
    /// with nested calls, RSS rose 27 MB in three minutes and kept rising;
    /// collected every 5 seconds it stayed within a few MB. Zero turns them
    /// off. Default: 5.
    public var heapCollectionSeconds: Double

    /// Creates a configuration. A `timeoutSeconds` of zero or less means Tyk's
    /// default of 5 seconds.
    public init(
        workerCount: Int = 2 * ProcessInfo.processInfo.activeProcessorCount,
        maxWorkerCount: Int? = nil,
        addedWorkerIdleSeconds: Double = 60,
        timeoutSeconds: Double = 5,
        httpTimeoutSeconds: Double? = nil,
        clock: any GatewayClock = SystemClock(),
        logger: Logger = Logger(label: "portcullis.jsvm"),
        nestedCalls: Bool = false,
        heapCollectionSeconds: Double = 5
    ) {
        self.workerCount = max(1, workerCount)
        self.maxWorkerCount = max(self.workerCount, maxWorkerCount ?? 16 * ProcessInfo.processInfo.activeProcessorCount)
        self.addedWorkerIdleSeconds = max(0.01, addedWorkerIdleSeconds)
        self.timeoutSeconds = timeoutSeconds > 0 ? timeoutSeconds : 5
        self.httpTimeoutSeconds = httpTimeoutSeconds ?? self.timeoutSeconds
        self.clock = clock
        self.logger = logger
        self.nestedCalls = nestedCalls
        self.heapCollectionSeconds = max(0, heapCollectionSeconds)
    }
}

import Foundation
