extension Duration {
    /// The duration in seconds, for reports and logs.
    public var secondsValue: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// The duration in whole nanoseconds, as swift-metrics timers take it
    /// (saturating instead of trapping on durations beyond ±292 years).
    public var nanosecondsValue: Int64 {
        let (seconds, overflow) = components.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return components.seconds < 0 ? .min : .max }
        let (total, carried) = seconds.addingReportingOverflow(components.attoseconds / 1_000_000_000)
        return carried ? .max : total
    }
}
