import PortcullisCore
import PortcullisJS

/// Keeps an API version's JavaScript realm loaded while requests that
/// started on that version are still running, and drops it as soon as the
/// version is retired by a reload and the last of them has finished. A
/// reload therefore never breaks a request in flight, and a hundred
/// reloads do not leave a hundred realms behind.
final class RealmLease: Sendable {
    private struct State {
        var inFlight = 0
        var retired = false
        var dropped = false
    }

    /// The realm this lease covers.
    let realm: String
    private let engine: JSEngine
    private let state = Locked(State())

    init(realm: String, engine: JSEngine) {
        self.realm = realm
        self.engine = engine
    }

    /// A request starts on this version. Call only while holding the route
    /// table's lock, so a reload cannot retire the version in between.
    func enter() {
        state.withLock { $0.inFlight += 1 }
    }

    /// A request on this version finished.
    func leave() {
        if state.withLock({ s -> Bool in
            s.inFlight -= 1
            return Self.takeDrop(&s)
        }) { drop() }
    }

    /// A reload replaced this version; it is dropped once idle.
    func retire() {
        if state.withLock({ s -> Bool in
            s.retired = true
            return Self.takeDrop(&s)
        }) { drop() }
    }

    /// Requests currently running on this version.
    var inFlight: Int { state.withLock { $0.inFlight } }

    private static func takeDrop(_ s: inout State) -> Bool {
        guard s.retired, s.inFlight == 0, !s.dropped else { return false }
        s.dropped = true
        return true
    }

    private func drop() {
        let engine = engine
        let realm = realm
        Task { await engine.dropRealm(realm) }
    }
}
