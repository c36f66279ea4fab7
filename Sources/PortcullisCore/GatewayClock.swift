import Foundation

/// The source of "now" for everything that reasons about time: session expiry,
/// store TTLs, quota windows, and `Date` inside JavaScript.
///
/// Production code uses ``SystemClock``; scenario runs and tests share one
/// ``VirtualClock`` so a day of expiry rules can be replayed in milliseconds.
public protocol GatewayClock: Sendable {
    /// The current wall-clock time.
    func now() -> Date
}

extension GatewayClock {
    /// The current time as whole Unix seconds, the unit of Tyk's `expires`.
    public func unixSeconds() -> Int64 {
        Int64(now().timeIntervalSince1970.rounded(.down))
    }

    /// The current time as Unix milliseconds, the unit of JavaScript's `Date.now()`.
    public func unixMilliseconds() -> Double {
        (now().timeIntervalSince1970 * 1000).rounded(.down)
    }
}

/// The real wall clock.
public struct SystemClock: GatewayClock {
    /// Creates the real wall clock.
    public init() {}

    public func now() -> Date { Date() }
}

/// A clock that only moves when told to, shared by every part of a gateway
/// under test so that expiry, TTLs and JavaScript `Date` agree.
public final class VirtualClock: GatewayClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    /// Creates a clock standing at `start`.
    public init(start: Date = Date(timeIntervalSince1970: 1_700_000_000)) {
        self.current = start
    }

    public func now() -> Date {
        lock.withLock { current }
    }

    /// Moves the clock forward (or, with a negative value, back) by `seconds`.
    public func advance(by seconds: TimeInterval) {
        lock.withLock { current = current.addingTimeInterval(seconds) }
    }

    /// Puts the clock at an absolute time.
    public func set(to date: Date) {
        lock.withLock { current = date }
    }
}
