import CJavaScriptCore
import Foundation
import Logging
import PortcullisCore

/// Everything one level of a worker thread owns: its context group, its
/// realms and the scope its bindings read. Never touched from another thread.
final class WorkerState {
    let group: JSContextGroupRef
    let scope: CallScope
    let clock: any GatewayClock
    let timeout = TimeoutFlag()
    let limitSeconds: Double
    var realms: [String: JSRealm] = [:] {
        didSet { realmsChanged &+= 1 }
    }
    var staged: [String: JSRealm] = [:]
    /// How each realm in ``realms`` was loaded, so a nested level
    /// (``JSWorker``) loads the same.
    var recipes: [String: JSEngine.RealmRecipe] = [:]
    /// Counts changes to ``realms``.
    private(set) var realmsChanged = 0
    /// Calls run on this level since its heap was last collected in full.
    var callsSinceCollection = 0
    /// Uptime in nanoseconds of that collection, or of the level's start.
    private var collectedAt = DispatchTime.now().uptimeNanoseconds

    init(limitSeconds: Double, clock: any GatewayClock, logger: Logger, activity: WorkerActivity) {
        group = JSContextGroupCreate()
        scope = CallScope(logger: logger, activity: activity)
        self.clock = clock
        self.limitSeconds = limitSeconds
        setLimit(limitSeconds)
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

    /// Makes `realm`, loaded from `recipe`, the one calls use.
    func commit(_ realm: JSRealm, from recipe: JSEngine.RealmRecipe) {
        recipes[recipe.name] = recipe
        realms[recipe.name] = realm
    }

    /// Loads `recipe` and commits it at once; false when it does not load.
    func loadCommitted(_ recipe: JSEngine.RealmRecipe) -> Bool {
        guard case .success = JSEngine.stage(recipe, on: self), let loaded = staged.removeValue(forKey: recipe.name) else {
            return false
        }
        commit(loaded, from: recipe)
        return true
    }

    /// Collects the group's heap in full when `interval` nanoseconds have
    /// passed since the last time and calls ran since; true when it did.
    /// Only between calls: nothing of this level may be running.
    func collectIfDue(now: UInt64, interval: UInt64) -> Bool {
        guard callsSinceCollection > 0, now &- collectedAt >= interval,
              let context = realms.values.first?.context ?? staged.values.first?.context else { return false }
        JSSynchronousGarbageCollectForDebugging(context)
        callsSinceCollection = 0
        collectedAt = DispatchTime.now().uptimeNanoseconds
        return true
    }

    /// Puts the group's limit back after the watchdog lowered it to give a
    /// call back the time other calls ran inside it.
    func restoreLimit() {
        if timeout.takeLowered() { setLimit(limitSeconds) }
    }

    private func setLimit(_ seconds: Double) {
        JSContextGroupSetExecutionTimeLimit(group, seconds, Self.limitReached, Unmanaged.passUnretained(timeout).toOpaque())
    }

    /// The watchdog's callback: stops the call, unless calls nested in it
    /// ran meanwhile, whose time it is given back first.
    private static let limitReached: JSShouldTerminateCallback = { context, flag in
        guard let flag else { return true }
        let timeout = Unmanaged<TimeoutFlag>.fromOpaque(flag).takeUnretainedValue()
        guard let extra = timeout.expire() else { return true }
        if let context { JSContextGroupSetExecutionTimeLimit(JSContextGetGroup(context), extra, limitReached, flag) }
        return false
    }
}

/// A dedicated thread that runs JavaScript jobs in order. JSC contexts are
/// bound to the thread that made them, so every job for this worker's
/// realms runs here.
///
/// With nesting on (`jsvm_nested_calls`), while a plugin call waits for a
/// store reply that has not arrived yet
/// (``PortcullisCore/BlockingThread/offerWaitingTime()``), the worker runs
/// the next queued plugin call nested inside it, on a second set of the
/// same realms in a context group of its own, instead of sleeping until
/// the reply comes and being woken: on a busy machine the sleep and the
/// wake-up cost more than a short JS call. The waiting call goes on once
/// the nested one is done. Each nesting level keeps its own realms, so
/// calls never share a global object while one of them is unfinished,
/// just as calls on two workers do not. When nothing is queued on it, it
/// takes the first call queued on another worker of the engine (the
/// ``WorkerRoster``), which would otherwise wait for that worker's
/// running call.
final class JSWorker: @unchecked Sendable {
    /// A job and whether it may run nested inside a waiting call.
    struct Job {
        let run: @Sendable (WorkerState) -> Void
        /// A plugin call, which runs on whichever level's realms it is
        /// given. Realm changes, which must reach the worker's own state
        /// and keep their order with the calls around them, are not.
        let nestable: Bool
    }

    /// Levels of calls a worker with nesting on runs at most at once, its
    /// own included. Each level holds its own context group with every
    /// API's plugins (several MB once warm); on the
    /// `TykSetKeyData`-every-request benchmark a third or fifth level
    /// served no more requests than a second.
    static let nestingLevels = 2

    /// Levels this worker runs calls on: 1 without nesting.
    private let levelCount: Int
    /// How often each level's heap is collected in full, in nanoseconds; 0: never.
    private let collectionInterval: UInt64

    /// One nesting level: its state, built from the first level's realms
    /// when those had changed `builtAt` times; nil when they did not load.
    private struct Level {
        var state: WorkerState?
        var builtAt: Int
    }

    private let jobs = HandOffQueue<Job>()
    private let roster: WorkerRoster?
    private var thread: Thread?
    /// What the worker holds and whether it waits on I/O, read lock-free.
    let activity = WorkerActivity()
    private let makeState: () -> WorkerState

    // Touched only by the worker's thread.
    private var pending: [Job] = []
    private var nextPending = 0
    private var levels: [Level] = []
    private var depth = 0

    init(index: Int, configuration: JSEngineConfiguration, roster: WorkerRoster? = nil) {
        let activity = self.activity
        self.roster = roster
        levelCount = configuration.nestedCalls ? Self.nestingLevels : 1
        collectionInterval = UInt64(configuration.heapCollectionSeconds * 1e9)
        let (limitSeconds, clock, logger) = (configuration.timeoutSeconds, configuration.clock, configuration.logger)
        makeState = { WorkerState(limitSeconds: limitSeconds, clock: clock, logger: logger, activity: activity) }
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
            BlockingThread.declareCurrent(whileWaiting: levelCount > 1 ? { [unowned self] in self.runNested() } : nil)
            self.run()
        }
        thread.name = name
        thread.stackSize = 16 << 20
        self.thread = thread
        thread.start()
    }

    /// Queues a job; returns false if the worker is stopping. A `nestable`
    /// job is a plugin call (see ``Job/nestable``).
    func submit(nestable: Bool = false, _ job: @escaping @Sendable (WorkerState) -> Void) -> Bool {
        jobs.push(Job(run: job, nestable: nestable)) { activity.callQueued() }
    }

    /// Finishes queued jobs, then ends the thread.
    func stop() {
        jobs.close()
    }

    /// Takes every queued job at once and runs them in order. One clock
    /// reading ends a job and starts the next.
    private func run() {
        let own = makeState()
        levels = [Level(state: own, builtAt: 0)]
        while jobs.takeAll(into: &pending) {
            var now = DispatchTime.now().uptimeNanoseconds
            nextPending = 0
            // A nested call may take the next jobs, and the queue's next batch.
            while nextPending < pending.count {
                let job = pending[nextPending]
                nextPending += 1
                now = run(job, on: own, startedAt: now)
            }
            pending.removeAll(keepingCapacity: true)
            if collectionInterval > 0 { collectHeaps(now: now) }
        }
        for level in levels {
            level.state?.realms.removeAll()
            level.state?.staged.removeAll()
        }
        levels = []
    }

    /// Collects each level's heap that is due (``WorkerState/collectIfDue(now:interval:)``).
    private func collectHeaps(now: UInt64) {
        for level in levels where level.state?.collectIfDue(now: now, interval: collectionInterval) == true {
            activity.heapCollected()
        }
    }

    /// Hands the first call queued here to another worker, if the first
    /// queued job is a plugin call.
    private func handOver() -> Job? {
        guard let job = jobs.takeFirst(if: \.nestable) else { return nil }
        activity.callHandedOver()
        return job
    }

    /// The next plugin call to run nested: the next one queued here
    /// (`taken` false), or else the first one queued on another worker
    /// (`taken` true). Nil when the next job here is not a plugin call, or
    /// no call is queued anywhere.
    private func nextNestable() -> (job: Job, taken: Bool)? {
        if nextPending >= pending.count {
            pending.removeAll(keepingCapacity: true)
            nextPending = 0
            if !jobs.takeQueued(into: &pending) {
                for peer in roster?.workers ?? [] where peer !== self {
                    guard let job = peer.handOver() else { continue }
                    activity.callQueued()
                    return (job, true)
                }
                return nil
            }
        }
        guard pending[nextPending].nestable else { return nil }
        nextPending += 1
        return (pending[nextPending - 1], false)
    }

    /// Runs the next plugin call on the next level, when a level is left
    /// and the waiting call is not running a task's jobs for a binding.
    private func runNested() {
        guard depth + 1 < levelCount, let outer = levels[depth].state, !outer.scope.isBridging,
              let (job, taken) = nextNestable() else { return }
        guard let state = level(depth + 1) else {
            // The realms did not load again: the call waits its turn here.
            if taken { pending.insert(job, at: nextPending) } else { nextPending -= 1 }
            return
        }
        depth += 1
        defer { depth -= 1 }
        let outerSince = activity.suspendRunning()
        let started = DispatchTime.now().uptimeNanoseconds
        let finished = run(job, on: state, startedAt: started)
        activity.resumeRunning(since: outerSince)
        outer.timeout.excuse(Double(finished &- started) / 1e9)
    }

    /// Runs one job on `state`'s level, counted as a call that began at
    /// `started`; returns the uptime it ended at.
    private func run(_ job: Job, on state: WorkerState, startedAt started: UInt64) -> UInt64 {
        activity.callStarted(now: started)
        state.callsSinceCollection += 1
        job.run(state)
        // Only a nesting worker gives time back, lowering a limit.
        if levelCount > 1 { state.restoreLimit() }
        let finished = DispatchTime.now().uptimeNanoseconds
        activity.callFinished(now: finished)
        return finished
    }

    /// The state of nesting level `index`, holding the realms the worker's
    /// own level holds now; built again after those change.
    private func level(_ index: Int) -> WorkerState? {
        guard let own = levels[0].state else { return nil }
        if index < levels.count, levels[index].builtAt == own.realmsChanged { return levels[index].state }
        if index < levels.count { levels[index].state?.realms.removeAll() }
        let built = Level(state: replica(of: own), builtAt: own.realmsChanged)
        if index < levels.count { levels[index] = built } else { levels.append(built) }
        return built.state
    }

    /// A new state with every realm of `own` loaded from its recipe; nil
    /// when one of them has no recipe or does not load again.
    private func replica(of own: WorkerState) -> WorkerState? {
        let fresh = makeState()
        for name in own.realms.keys {
            guard let recipe = own.recipes[name], fresh.loadCommitted(recipe) else { return nil }
        }
        return fresh
    }
}

/// The workers an engine started with, for a worker with nothing queued
/// to take a call queued on another (``JSWorker``).
final class WorkerRoster: Sendable {
    private let list = Locked<[JSWorker]>([])

    var workers: [JSWorker] { list.value }

    /// Sets the workers; `[]` lets them go when the engine ends.
    func set(_ workers: [JSWorker]) { list.value = workers }
}
