import CJavaScriptCore
import Foundation
import Logging
import PortcullisCore

/// Everything a worker thread owns: its context group, its realms and the
/// scope its bindings read. Never touched from another thread.
final class WorkerState {
    let group: JSContextGroupRef
    let scope: CallScope
    let clock: any GatewayClock
    let timeout = TimeoutFlag()
    let limitSeconds: Double
    var realms: [String: JSRealm] = [:]
    var staged: [String: JSRealm] = [:]

    init(limitSeconds: Double, clock: any GatewayClock, logger: Logger, activity: WorkerActivity) {
        group = JSContextGroupCreate()
        scope = CallScope(logger: logger, activity: activity)
        self.clock = clock
        self.limitSeconds = limitSeconds
        let flag = Unmanaged.passUnretained(timeout).toOpaque()
        JSContextGroupSetExecutionTimeLimit(group, limitSeconds, { _, context in
            guard let context else { return true }
            Unmanaged<TimeoutFlag>.fromOpaque(context).takeUnretainedValue().fire()
            return true
        }, flag)
    }

    deinit {
        realms.removeAll()
        staged.removeAll()
        JSContextGroupRelease(group)
    }

    func realm(_ name: String) throws -> JSRealm {
        guard let realm = realms[name] else { throw PluginError.realmNotLoaded(name) }
        return realm
    }
}

/// A dedicated thread that runs JavaScript jobs one at a time, in order.
/// JSC contexts are bound to the thread that made them, so every job for
/// this worker's realms runs here.
final class JSWorker: @unchecked Sendable {
    typealias Job = @Sendable (WorkerState) -> Void

    private let jobs = HandOffQueue<Job>()
    private var thread: Thread?
    /// What the worker holds and whether it waits on I/O, read lock-free.
    let activity = WorkerActivity()

    init(index: Int, limitSeconds: Double, clock: any GatewayClock, logger: Logger) {
        let activity = self.activity
        let name = "portcullis-js-\(index)"
        let thread = Thread { [self] in
            // Named from the thread itself, so `top -H`, perf and /proc
            // show it: `Thread.name` alone does not reach the kernel here.
            // Linux keeps at most 15 bytes; elsewhere the file is absent.
            if let comm = fopen("/proc/thread-self/comm", "w") {
                fputs(String(decoding: name.utf8.prefix(15), as: UTF8.self), comm)
                fclose(comm)
            }
            // Bindings block this thread on I/O; stores may do it here.
            BlockingThread.declareCurrent()
            self.run(WorkerState(limitSeconds: limitSeconds, clock: clock, logger: logger, activity: activity))
        }
        thread.name = name
        thread.stackSize = 16 << 20
        self.thread = thread
        thread.start()
    }

    /// Queues a job; returns false if the worker is stopping.
    func submit(_ job: @escaping Job) -> Bool {
        jobs.push(job) { activity.callQueued() }
    }

    /// Finishes queued jobs, then ends the thread.
    func stop() {
        jobs.close()
    }

    /// Takes every queued job at once and runs them in order. One clock
    /// reading ends a job and starts the next.
    private func run(_ state: WorkerState) {
        var batch: [Job] = []
        while jobs.takeAll(into: &batch) {
            var now = DispatchTime.now().uptimeNanoseconds
            for job in batch {
                activity.callStarted(now: now)
                job(state)
                now = DispatchTime.now().uptimeNanoseconds
                activity.callFinished(now: now)
            }
            batch.removeAll(keepingCapacity: true)
        }
        state.realms.removeAll()
        state.staged.removeAll()
    }
}
