import PortcullisSessions

/// A rate limit as a sliding window over two fixed windows of `per`
/// seconds, on atomic store counters (`rate-limit-<counter>-<window>`) so
/// every node counts against the same limit: the previous window's count is
/// weighted by how much of it still overlaps the last `per` seconds.
struct RateWindow {
    /// The counter's name (a key's stored name, or an API's limiter name).
    let counter: String
    /// Requests allowed per window.
    let rate: Double
    /// The window in seconds.
    let per: Double

    /// Counts one request; nil when allowed, otherwise whole seconds until
    /// the current window ends (when the count starts to slide out).
    func check(store: any SessionStore, now: Double) async throws -> Int? {
        let window = Int64((now / per).rounded(.down))
        let ttl = Int64(per.rounded(.up)) * 2 + 1
        let current: Int64
        let previous: String?
        do {
            current = try await store.increment(key: "rate-limit-\(counter)-\(window)", ttlSecondsOnCreate: ttl, repairMissingTTL: true)
            previous = try await store.value(forKey: "rate-limit-\(counter)-\(window - 1)")
        } catch {
            throw GatewayError.storeUnavailable("rate limit counter: \(error)")
        }
        let elapsedFraction = (now - Double(window) * per) / per
        let weighted = Double(Int64(previous ?? "0") ?? 0) * (1 - elapsedFraction) + Double(current)
        guard weighted > rate else { return nil }
        return max(1, Int((Double(window + 1) * per - now).rounded(.up)))
    }
}
