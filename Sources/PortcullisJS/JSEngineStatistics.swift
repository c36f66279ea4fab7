/// A reading of the engine's worker pool, for metrics: how deep the queues
/// are now and how many calls ran and timed out since the engine started.
public struct JSEngineStatistics: Sendable, Equatable {
    /// Worker threads in the pool.
    public var workers: Int
    /// Calls queued or running on every worker now.
    public var queuedOrRunning: Int
    /// Calls the workers started since the engine started (realm loads included).
    public var callsStarted: Int
    /// Calls stopped for running past `jsvm_timeout`.
    public var timeouts: Int
    /// Workers whose running call is blocked on I/O now (a store round
    /// trip, an HTTP call): when this stays at ``workers``, calls wait for
    /// a thread; `jsvm_max_workers` lets the pool grow when they wait on
    /// outbound HTTP calls, never on the store.
    public var waitingOnIO: Int
    /// Full collections of the workers' JS heaps since the engine started
    /// (``JSEngineConfiguration/heapCollectionSeconds``).
    public var heapCollections: Int

    /// A reading with these values.
    public init(workers: Int, queuedOrRunning: Int, callsStarted: Int, timeouts: Int, waitingOnIO: Int = 0,
                heapCollections: Int = 0) {
        self.workers = workers
        self.queuedOrRunning = queuedOrRunning
        self.callsStarted = callsStarted
        self.timeouts = timeouts
        self.waitingOnIO = waitingOnIO
        self.heapCollections = heapCollections
    }
}
