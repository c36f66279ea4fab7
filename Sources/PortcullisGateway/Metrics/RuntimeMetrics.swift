import CoreMetrics
import Foundation
import PortcullisCore
import PortcullisJS

/// The process (memory, CPU, file descriptors, start time) and the JS
/// engine (queue depth, calls, timeouts), read when sampled and recorded
/// on the node's metrics factory under the names Prometheus' own clients
/// use for process metrics.
///
/// Sampled on every `/metrics` scrape, and every ten seconds when the
/// metrics go to an embedder's backend, which has no scrape to hook.
public final class RuntimeMetrics: Sendable {
    /// The metric names this type records.
    public enum Name {
        public static let residentMemory = "process_resident_memory_bytes"
        public static let virtualMemory = "process_virtual_memory_bytes"
        public static let cpuSeconds = "process_cpu_seconds_total"
        public static let openFDs = "process_open_fds"
        public static let maxFDs = "process_max_fds"
        public static let startTime = "process_start_time_seconds"
        public static let jsQueueDepth = "portcullis_js_queue_depth"
        public static let jsWorkers = "portcullis_js_workers"
        public static let jsWorkersWaiting = "portcullis_js_workers_waiting"
        public static let jsCalls = "portcullis_js_calls_total"
        public static let jsTimeouts = "portcullis_js_timeouts_total"
    }

    private struct Totals {
        var cpuSeconds: Double = 0
        var jsCalls = 0
        var jsTimeouts = 0
    }

    private let engine: JSEngine
    private let resident: Gauge
    private let virtual: Gauge
    private let cpu: FloatingPointCounter
    private let openFDs: Gauge
    private let maxFDs: Gauge
    private let startTime: Gauge
    private let queueDepth: Gauge
    private let workers: Gauge
    private let workersWaiting: Gauge
    private let jsCalls: Counter
    private let jsTimeouts: Counter
    private let recorded = Locked(Totals())

    /// Metrics of this process and `engine` on `factory`.
    public init(factory: any MetricsFactory, engine: JSEngine) {
        self.engine = engine
        resident = Gauge(label: Name.residentMemory, factory: factory)
        virtual = Gauge(label: Name.virtualMemory, factory: factory)
        cpu = FloatingPointCounter(label: Name.cpuSeconds, factory: factory)
        openFDs = Gauge(label: Name.openFDs, factory: factory)
        maxFDs = Gauge(label: Name.maxFDs, factory: factory)
        startTime = Gauge(label: Name.startTime, factory: factory)
        queueDepth = Gauge(label: Name.jsQueueDepth, factory: factory)
        workers = Gauge(label: Name.jsWorkers, factory: factory)
        workersWaiting = Gauge(label: Name.jsWorkersWaiting, factory: factory)
        jsCalls = Counter(label: Name.jsCalls, factory: factory)
        jsTimeouts = Counter(label: Name.jsTimeouts, factory: factory)
    }

    /// Reads the process and the engine now and records what changed.
    /// Counters move by the difference since the last sample, so they stay
    /// monotonic on any backend.
    public func sample() {
        let engineNow = engine.statistics
        queueDepth.record(engineNow.queuedOrRunning)
        workers.record(engineNow.workers)
        workersWaiting.record(engineNow.waitingOnIO)
        let process = ProcessReading.now()
        if let process {
            resident.record(process.residentBytes)
            virtual.record(process.virtualBytes)
            startTime.record(process.startTime)
        }
        if let fds = ProcessReading.openFileDescriptors() { openFDs.record(fds) }
        if let limit = ProcessReading.fileDescriptorLimit() { maxFDs.record(limit) }
        let (cpuDelta, callDelta, timeoutDelta) = recorded.withLock { totals -> (Double, Int, Int) in
            let cpuNow = process?.cpuSeconds ?? totals.cpuSeconds
            let deltas = (max(0, cpuNow - totals.cpuSeconds), max(0, engineNow.callsStarted - totals.jsCalls),
                          max(0, engineNow.timeouts - totals.jsTimeouts))
            totals = Totals(cpuSeconds: max(cpuNow, totals.cpuSeconds), jsCalls: max(engineNow.callsStarted, totals.jsCalls),
                            jsTimeouts: max(engineNow.timeouts, totals.jsTimeouts))
            return deltas
        }
        if cpuDelta > 0 { cpu.increment(by: cpuDelta) }
        if callDelta > 0 { jsCalls.increment(by: callDelta) }
        if timeoutDelta > 0 { jsTimeouts.increment(by: timeoutDelta) }
    }
}

/// One reading of `/proc/self`: what Linux reports about this process.
struct ProcessReading {
    var residentBytes: Int
    var virtualBytes: Int
    var cpuSeconds: Double
    var startTime: Double

    /// The reading now; nil where `/proc` cannot be read (not Linux).
    static func now() -> ProcessReading? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name, from field 3 (state) on.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        func field(_ number: Int) -> Double? { fields.count > number - 3 ? Double(fields[number - 3]) : nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        guard ticks > 0, let utime = field(14), let stime = field(15), let started = field(22),
              let vsize = field(23), let rss = field(24) else { return nil }
        return ProcessReading(residentBytes: Int(rss * page), virtualBytes: Int(vsize),
                              cpuSeconds: (utime + stime) / ticks, startTime: (bootTime() ?? 0) + started / ticks)
    }

    /// Entries in `/proc/self/fd`, less the one listing it.
    static func openFileDescriptors() -> Int? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return nil }
        return max(0, entries.count - 1)
    }

    /// The soft `RLIMIT_NOFILE`.
    static func fileDescriptorLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        return limit.rlim_cur == rlim_t.max ? nil : Int(limit.rlim_cur)
    }

    /// The `btime` line of `/proc/stat`: boot time in Unix seconds.
    private static func bootTime() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in stat.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}
