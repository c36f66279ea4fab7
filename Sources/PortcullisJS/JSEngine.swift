import CJavaScriptCore
import Foundation
import PortcullisCore

/// The JavaScript engine: a pool of worker threads, each with its own
/// JavaScriptCore context group, running Tyk JSVM middleware. The pool
/// starts at ``JSEngineConfiguration/workerCount`` and grows, up to
/// ``JSEngineConfiguration/maxWorkerCount``, when every worker has long
/// been blocked on an outbound HTTP call: a plugin that waits holds its
/// thread (its call is synchronous, as in Tyk), so calls must not queue
/// behind a slow service. Added workers that then go unused are stopped
/// (``JSEngineConfiguration/addedWorkerIdleSeconds``).
///
/// Plugins are grouped into *realms* (normally one per API): a realm's
/// files are loaded once into a context on every worker. Callers `await`
/// results, or (``submitMiddleware(realm:handler:request:sessionJSON:spec:host:completion:)``)
/// get them in a callback on the worker thread; no JavaScript ever runs on
/// the caller's thread.
public final class JSEngine: Sendable {
    /// The configuration the engine was started with.
    public let configuration: JSEngineConfiguration
    /// The workers started with the engine.
    private let workers: [JSWorker]
    /// The same workers, as each of them sees the others.
    private let roster: WorkerRoster
    private let nextWorker = RoundRobin()
    /// Workers added while every worker waited on I/O.
    private let added = Locked(AddedWorkers())
    /// Realm changes and new workers, one at a time.
    private let realmGate = AsyncSerialGate()
    /// The realms loaded now, in load order, so a new worker loads them too.
    private let recipes = Locked<[RealmRecipe]>([])

    private struct AddedWorkers {
        var workers: [JSWorker] = []
        var adding = false
        var stopped = false
        /// Workers added so far, retired ones included: numbers the threads.
        var started = 0
    }

    /// How a realm was loaded.
    struct RealmRecipe: Sendable {
        var name: String
        var scripts: [PluginScript]
        var library: [PluginScript]
        var skippingBrokenFiles: Bool
    }

    /// Starts the worker threads.
    public init(configuration: JSEngineConfiguration = JSEngineConfiguration()) {
        JSCOptions.configureOnce()
        self.configuration = configuration
        let roster = WorkerRoster()
        workers = (0..<configuration.workerCount).map {
            JSWorker(index: $0, configuration: configuration, roster: roster)
        }
        roster.set(workers)
        self.roster = roster
    }

    deinit {
        for worker in allWorkers { worker.stop() }
        roster.set([])
    }

    /// Stops the workers once their queued calls finish. Later calls fail
    /// with ``PluginError/engineStopped``.
    public func shutdown() {
        let extra = added.withLock { a -> [JSWorker] in
            a.stopped = true
            return a.workers
        }
        for worker in workers + extra { worker.stop() }
    }

    /// Every worker now: the first ones and those added.
    private var allWorkers: [JSWorker] {
        workers + added.withLock { $0.workers }
    }

    /// What the workers hold and have done, read without stopping them.
    public var statistics: JSEngineStatistics {
        let all = allWorkers
        return JSEngineStatistics(workers: all.count,
                                  queuedOrRunning: all.reduce(0) { $0 + $1.activity.calls },
                                  callsStarted: all.reduce(0) { $0 + $1.activity.callsStarted },
                                  timeouts: all.reduce(0) { $0 + $1.activity.callsTimedOut },
                                  waitingOnIO: all.reduce(0) { $0 + ($1.activity.isWaiting ? 1 : 0) },
                                  heapCollections: all.reduce(0) { $0 + $1.activity.heapCollections })
    }

    // MARK: Realms

    /// Loads `scripts`, in order, into a fresh realm called `realm` on every
    /// worker, replacing any realm of that name only if every file loads.
    /// On failure the old realm (if any) keeps serving and the error names
    /// the file and line. An `otto` realm with plugin files gets
    /// underscore.js as `_` first (``UnderscoreLibrary``); a `goja` realm does not.
    ///
    /// With `skippingBrokenFiles`, a plugin file that fails to load is left
    /// out instead (as Tyk's VM does: what the file defines is missing, so
    /// calls to it fail) and its error is returned; the realm loads.
    @discardableResult
    public func loadRealm(_ realm: String, scripts: [PluginScript], driver: JSDriver = .otto,
                          skippingBrokenFiles: Bool = false) async throws -> [PluginError] {
        let library = driver == .otto && !scripts.isEmpty ? [try UnderscoreLibrary.script()] : []
        let recipe = RealmRecipe(name: realm, scripts: scripts, library: library, skippingBrokenFiles: skippingBrokenFiles)
        return try await realmGate.run {
            let results = await onEveryWorker { state in Self.stage(recipe, on: state) }
            let failure = results.lazy.compactMap { result -> PluginError? in
                if case .failure(let error) = result { return error }
                return nil
            }.first
            _ = await onEveryWorker { state in
                if let staged = state.staged.removeValue(forKey: realm), failure == nil {
                    state.commit(staged, from: recipe)
                }
            }
            if let failure { throw failure }
            recipes.withLock { list in
                if let index = list.firstIndex(where: { $0.name == realm }) { list[index] = recipe } else { list.append(recipe) }
            }
            for result in results { if case .success(let skipped) = result { return skipped } }
            return []
        }
    }

    /// Loads `recipe` into a new realm on this worker, staged until committed.
    static func stage(_ recipe: RealmRecipe, on state: WorkerState) -> Result<[PluginError], PluginError> {
        do {
            let fresh = try JSRealm(name: recipe.name, group: state.group, scope: state.scope, clock: state.clock,
                                    timeout: state.timeout)
            for script in recipe.library { try fresh.load(script) }
            if !recipe.library.isEmpty { fresh.hideGatewayGlobals() }
            var skipped: [PluginError] = []
            for script in recipe.scripts {
                do {
                    try fresh.load(script)
                } catch let error as PluginError where recipe.skippingBrokenFiles {
                    skipped.append(error)
                }
            }
            state.staged[recipe.name] = fresh
            return .success(skipped)
        } catch let error as PluginError {
            return .failure(error)
        } catch {
            return .failure(.loadFailed(SourceLocation(file: recipe.name, line: nil), message: "\(error)"))
        }
    }

    /// Removes a realm from every worker.
    public func dropRealm(_ realm: String) async {
        await realmGate.run {
            recipes.withLock { list in list.removeAll { $0.name == realm } }
            _ = await onEveryWorker { state in
                state.recipes[realm] = nil
                guard state.realms.removeValue(forKey: realm) != nil else { return }
                // The dropped global object is garbage now; tell the collector.
                if let survivor = state.realms.values.first { JSGarbageCollect(survivor.context) }
            }
        }
    }

    /// Starts one more worker, loads every realm into it and only then
    /// lets calls reach it. One at a time; never past the maximum.
    private func addWorker() {
        let index = added.withLock { a -> Int? in
            guard !a.adding, !a.stopped, workers.count + a.workers.count < configuration.maxWorkerCount else { return nil }
            a.adding = true
            a.started += 1
            return workers.count + a.started - 1
        }
        guard let index else { return }
        Task.detached { [self] in
            await realmGate.run {
                let worker = JSWorker(index: index, configuration: configuration)
                let loaded = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                    let recipes = self.recipes.withLock { $0 }
                    let accepted = worker.submit { state in
                        for recipe in recipes where !state.loadCommitted(recipe) {
                            continuation.resume(returning: false)
                            return
                        }
                        continuation.resume(returning: true)
                    }
                    if !accepted { continuation.resume(returning: false) }
                }
                let (kept, retire) = added.withLock { a -> (Bool, Bool) in
                    a.adding = false
                    guard loaded, !a.stopped else { return (false, false) }
                    a.workers.append(worker)
                    // Only the retirer empties the list, and it ends when it
                    // does: a first added worker means none is running.
                    return (true, a.workers.count == 1)
                }
                if retire { Task.detached { await self.retireIdleWorkers() } }
                if !kept {
                    worker.stop()
                    if !loaded { configuration.logger.warning("could not start another JavaScript worker: a realm did not load on it") }
                }
            }
        }
    }

    /// Stops added workers that have started no call for
    /// ``JSEngineConfiguration/addedWorkerIdleSeconds``, checking a few
    /// times in that span; returns once none is left (so the next added
    /// worker starts another) or the engine stops (so none will be added).
    /// A stopped worker finishes what it was given first, and a call that
    /// picked it just as it stopped goes to another worker (``submit(_:)``).
    private func retireIdleWorkers() async {
        let idleLimit = Duration.seconds(configuration.addedWorkerIdleSeconds)
        var lastSeen: [ObjectIdentifier: (started: Int, at: ContinuousClock.Instant)] = [:]
        while true {
            try? await Task.sleep(for: idleLimit / 4)
            let now = ContinuousClock.now
            var idle: Set<ObjectIdentifier> = []
            for worker in added.withLock({ $0.workers }) {
                let id = ObjectIdentifier(worker)
                let started = worker.activity.callsStarted
                if worker.activity.calls == 0, let seen = lastSeen[id], seen.started == started {
                    if now - seen.at >= idleLimit { idle.insert(id) }
                } else {
                    lastSeen[id] = (started, now)
                }
            }
            let (retired, left, done) = added.withLock { a -> ([JSWorker], Int, Bool) in
                let leaving = a.workers.filter { idle.contains(ObjectIdentifier($0)) && $0.activity.calls == 0 }
                a.workers.removeAll { worker in leaving.contains { $0 === worker } }
                return (leaving, a.workers.count, a.workers.isEmpty || a.stopped)
            }
            for worker in retired {
                worker.stop()
                lastSeen[ObjectIdentifier(worker)] = nil
            }
            if !retired.isEmpty {
                configuration.logger.info("stopped \(retired.count) idle JavaScript worker(s) added under load",
                                          metadata: ["workers": "\(workers.count + left)"])
            }
            if done { return }
        }
    }

    // MARK: Calls

    /// Runs a request middleware (`pre`, `post`, `post_key_auth`, or the
    /// `auth_check` hook): `handler.DoProcessRequest(request, session, spec)`.
    ///
    /// - Parameters:
    ///   - handler: the global name of the middleware object (`myAuth`).
    ///   - sessionJSON: the session the handler sees (`{}` for pre hooks).
    ///   - host: what the bindings read and write during this call.
    public func runMiddleware(realm: String, handler: String, request: MiniRequest, sessionJSON: String = "{}",
                              spec: PluginSpec, host: (any PluginHost)?) async throws -> MiddlewareOutcome {
        let arguments = [request.jsonText(), sessionJSON.isEmpty ? "{}" : sessionJSON, spec.jsonText()]
        let (returned, logs) = try await invoke(realm: realm, handler: handler, host: host) { target, limit in
            try target.callMiddleware(handlerName: handler, jsonArguments: arguments, limitSeconds: limit, given: request)
        }
        return try Self.outcome(returned, logs: logs, handler: handler)
    }

    /// ``runMiddleware(realm:handler:request:sessionJSON:spec:host:)`` for
    /// callers that do not wait in a task: `completion` runs on the worker
    /// thread when the call is over (or at once, if the engine has stopped),
    /// so an event loop hands a request to JS and gets it back with one
    /// hop each way and no task or continuation.
    /// `requestJSON`, when given, is the request object's text (already
    /// written by the caller, e.g. with ``MiniRequest/jsonText(headerFields:)``).
    public func submitMiddleware(realm: String, handler: String, request: MiniRequest, requestJSON: String? = nil,
                                 sessionJSON: String = "{}", spec: PluginSpec, host: (any PluginHost)?,
                                 completion: @escaping @Sendable (Result<MiddlewareOutcome, any Error>) -> Void) {
        let arguments = [requestJSON ?? request.jsonText(), sessionJSON.isEmpty ? "{}" : sessionJSON, spec.jsonText()]
        let call = scoped(realm: realm, handler: handler, host: host) { target, limit in
            try target.callMiddleware(handlerName: handler, jsonArguments: arguments, limitSeconds: limit, given: request)
        }
        let accepted = submit(nestable: true) { state in
            completion(Result {
                let (returned, logs) = try call(state)
                return try Self.outcome(returned, logs: logs, handler: handler)
            })
        }
        if !accepted { completion(.failure(PluginError.engineStopped)) }
    }

    private static func outcome(_ returned: MiddlewareReturn, logs: [PluginLogLine], handler: String) throws -> MiddlewareOutcome {
        guard let request = returned.request else {
            throw PluginError.invalidReturn(handler: handler, reason: "the result has no Request object")
        }
        return MiddlewareOutcome(request: request, sessionMeta: returned.sessionMeta, session: returned.session,
                                 authValue: returned.authValue, logs: logs)
    }

    /// Runs a response middleware: `handler.DoProcessResponse(response, request, session, spec)`.
    public func runResponseMiddleware(realm: String, handler: String, response: MiniResponse, request: MiniRequest,
                                      sessionJSON: String = "{}", spec: PluginSpec,
                                      host: (any PluginHost)?) async throws -> ResponseOutcome {
        let arguments = [response.jsonText(), request.jsonText(), sessionJSON.isEmpty ? "{}" : sessionJSON,
                         spec.jsonText()]
        let (text, logs) = try await call(realm: realm, handler: handler, method: "DoProcessResponse",
                                          arguments: arguments, host: host)
        let returned = try ReturnDecoding.decode(ResponseReturn.self, from: text, handler: handler)
        return ResponseOutcome(response: returned.response, logs: logs)
    }

    /// Runs a virtual endpoint function `handler(request, session, spec)`,
    /// which answers with `TykJsResponse(...)`.
    public func runVirtualEndpoint(realm: String, handler: String, request: VirtualEndpointRequest,
                                   sessionJSON: String = "{}", spec: PluginSpec,
                                   host: (any PluginHost)?) async throws -> VirtualEndpointOutcome {
        let arguments = [request.jsonText(), sessionJSON.isEmpty ? "{}" : sessionJSON, spec.jsonText()]
        let (text, logs) = try await call(realm: realm, handler: handler, method: nil, arguments: arguments, host: host)
        let returned = try ReturnDecoding.decode(VirtualEndpointReturn.self, from: text, handler: handler)
        return VirtualEndpointOutcome(code: returned.response.code, headers: returned.response.headers,
                                      body: returned.response.body, sessionMeta: returned.sessionMeta, logs: logs)
    }

    /// Evaluates an expression in a realm and returns its JSON, or
    /// `"undefined"`. For tools and tests; runs under the same time limit.
    public func evaluate(_ source: String, realm: String, host: (any PluginHost)? = nil) async throws -> String {
        let timeout = configuration.httpTimeoutSeconds
        return try await perform { state in
            let target = try state.realm(realm)
            state.scope.current = CallScope.Invocation(handler: "evaluate", host: host, httpTimeoutSeconds: timeout)
            defer { state.scope.current = nil }
            return try target.evaluateJSON(source)
        }
    }

    private func call(realm: String, handler: String, method: String?, arguments: [String],
                      host: (any PluginHost)?) async throws -> (String, [PluginLogLine]) {
        try await invoke(realm: realm, handler: handler, host: host) { target, limit in
            try target.call(handlerName: handler, method: method, jsonArguments: arguments, limitSeconds: limit)
        }
    }

    /// Runs `body` on a worker with the realm and the call's scope set up,
    /// and returns what it read with the lines the plugin logged.
    private func invoke<T: Sendable>(realm: String, handler: String, host: (any PluginHost)?,
                                     _ body: @escaping @Sendable (JSRealm, Double) throws -> T) async throws -> (T, [PluginLogLine]) {
        try await perform(nestable: true, scoped(realm: realm, handler: handler, host: host, body))
    }

    /// The work of one call on a worker: the realm found, the call's scope
    /// set up for the bindings and torn down after, the lines it logged.
    private func scoped<T: Sendable>(realm: String, handler: String, host: (any PluginHost)?,
                                     _ body: @escaping @Sendable (JSRealm, Double) throws -> T)
        -> @Sendable (WorkerState) throws -> (T, [PluginLogLine]) {
        let limit = configuration.timeoutSeconds
        let httpTimeout = configuration.httpTimeoutSeconds
        return { state in
            let target = try state.realm(realm)
            state.scope.current = CallScope.Invocation(handler: handler, host: host, httpTimeoutSeconds: httpTimeout)
            defer {
                state.scope.current?.fetches?.cancelAll()
                state.scope.current = nil
            }
            let value = try body(target, limit)
            return (value, state.scope.current?.logs ?? [])
        }
    }

    // MARK: Dispatch

    /// Runs `body` on a worker; a `nestable` body is a plugin call (``JSWorker/Job/nestable``).
    private func perform<T: Sendable>(nestable: Bool = false, _ body: @escaping @Sendable (WorkerState) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = submit(nestable: nestable) { state in
                continuation.resume(with: Result { try body(state) })
            }
            if !accepted { continuation.resume(throwing: PluginError.engineStopped) }
        }
    }

    /// Queues `job` (a plugin call when `nestable`, see
    /// ``JSWorker/Job/nestable``) on the worker ``pickWorker()`` chooses; false only once
    /// the engine has stopped. A worker retired between being picked and
    /// being given the job refuses it, and the next pick goes elsewhere.
    private func submit(nestable: Bool = false, _ job: @escaping @Sendable (WorkerState) -> Void) -> Bool {
        for _ in 0..<4 {
            if pickWorker().submit(nestable: nestable, job) { return true }
            if added.withLock({ $0.stopped }) { return false }
        }
        return false
    }

    private func onEveryWorker<T: Sendable>(_ body: @escaping @Sendable (WorkerState) -> T) async -> [T] {
        let all = allWorkers
        return await withTaskGroup(of: T?.self) { group in
            for worker in all {
                group.addTask {
                    await withCheckedContinuation { continuation in
                        let accepted = worker.submit { state in continuation.resume(returning: body(state)) }
                        if !accepted { continuation.resume(returning: nil) }
                    }
                }
            }
            var results: [T] = []
            for await result in group { if let result { results.append(result) } }
            return results
        }
    }

    /// How long every worker must have been blocked on an outbound call
    /// (an HTTP call to a slow service) before another is added, so the
    /// calls behind them do not queue for its answer. Store waits never
    /// count (``WorkerActivity/Wait/store``): a store round trip that takes
    /// this long means the store or the machine is saturated (the two-node
    /// soak, both cores busy, saw some), where more workers add no
    /// throughput, only memory (about 3.5 MB each under that load, kept for
    /// the life of the process), scheduler threads and collector threads.
    static let slowWait: UInt64 = 50_000_000

    /// The worker for the next call: the first awake worker holding a few
    /// calls (more when they are short) and not blocked on I/O
    /// (``WorkerActivity/acceptsFollower(now:)``), so a steady load
    /// keeps a few threads busy instead of waking every thread in turn;
    /// failing that, an idle worker; failing that, the one holding fewest
    /// calls (spread from a rotating start). When every worker has been
    /// blocked on an outbound call for longer than ``slowWait``, another
    /// worker is started for the calls after this one.
    private func pickWorker() -> JSWorker {
        var idle: JSWorker?
        var allWaiting = true
        let now = DispatchTime.now().uptimeNanoseconds
        for worker in workers {
            if worker.activity.acceptsFollower(now: now) { return worker }
            if idle == nil, worker.activity.calls == 0 { idle = worker }
            allWaiting = allWaiting && worker.activity.waitedFor(now: now) > Self.slowWait
        }
        if let idle { return idle }
        // The added workers are read only when the first ones are all busy.
        let extra = added.withLock { $0.workers }
        let pool = extra.isEmpty ? workers : workers + extra
        for worker in extra {
            if worker.activity.acceptsFollower(now: now) { return worker }
            if idle == nil, worker.activity.calls == 0 { idle = worker }
            allWaiting = allWaiting && worker.activity.waitedFor(now: now) > Self.slowWait
        }
        if let idle { return idle }
        if allWaiting { addWorker() }
        let start = nextWorker.next() % pool.count
        var best = pool[start]
        var bestLoad = best.activity.calls
        for offset in 1..<pool.count {
            let candidate = pool[(start + offset) % pool.count]
            let load = candidate.activity.calls
            if load < bestLoad {
                best = candidate
                bestLoad = load
            }
        }
        return best
    }

}

/// A counter for spreading calls over workers.
final class RoundRobin: Sendable {
    private let counter = Locked(0)

    func next() -> Int {
        counter.withLock { value in
            value &+= 1
            return value & Int.max
        }
    }
}

/// Process-wide JavaScriptCore options, set before the first VM exists.
enum JSCOptions {
    /// Execution time limits use polling traps: JIT code checks a flag at
    /// loop back-edges instead of being interrupted by a signal. Signal-based
    /// traps depend on JSC owning the process's fault handlers, which an
    /// embedding gateway (crash reporters, other runtimes) cannot promise;
    /// when they were lost, a runaway `while(true){}` was never stopped.
    private static let configured: Bool = {
        setenv("JSC_usePollingTraps", "1", 0)
        return true
    }()

    static func configureOnce() {
        _ = configured
    }
}
