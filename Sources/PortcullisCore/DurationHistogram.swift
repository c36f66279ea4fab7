/// A Prometheus-style cumulative histogram of durations in seconds: a
/// count per upper bound, plus the total count and sum. A value type, so
/// callers keep it under their own lock and render a consistent copy.
public struct DurationHistogram: Sendable, Equatable {
    /// Upper bounds in seconds, ascending; `+Inf` is implied.
    public let bounds: [Double]
    /// Observations at or below each bound (not cumulative; rendering sums them).
    public private(set) var bucketCounts: [Int]
    /// Every observation, including those above the last bound.
    public private(set) var count: Int = 0
    /// Sum of every observed duration, seconds.
    public private(set) var sum: Double = 0

    /// Bounds from 100 µs to 10 s: store calls sit at the low end, plugin
    /// calls that make HTTP requests at the high end.
    public static let defaultBounds: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// An empty histogram with `bounds` (sorted for you).
    public init(bounds: [Double] = DurationHistogram.defaultBounds) {
        self.bounds = bounds.sorted()
        self.bucketCounts = Array(repeating: 0, count: bounds.count)
    }

    /// Records one duration.
    public mutating func observe(_ seconds: Double) {
        count += 1
        sum += seconds
        if let index = bounds.firstIndex(where: { seconds <= $0 }) { bucketCounts[index] += 1 }
    }

    /// The exposition lines for metric `name` with the extra `labels`
    /// (already formatted as `a="b"`, or empty): `_bucket` per bound and
    /// `+Inf`, `_sum`, `_count`.
    public func exposition(name: String, labels: String) -> [String] {
        let prefix = labels.isEmpty ? "" : labels + ","
        var lines: [String] = []
        var cumulative = 0
        for (bound, bucket) in zip(bounds, bucketCounts) {
            cumulative += bucket
            lines.append("\(name)_bucket{\(prefix)le=\"\(Self.format(bound))\"} \(cumulative)")
        }
        lines.append("\(name)_bucket{\(prefix)le=\"+Inf\"} \(count)")
        let braces = labels.isEmpty ? "" : "{\(labels)}"
        lines.append("\(name)_sum\(braces) \(sum)")
        lines.append("\(name)_count\(braces) \(count)")
        return lines
    }

    private static func format(_ bound: Double) -> String {
        bound == bound.rounded() ? String(Int(bound)) : String(bound)
    }
}

extension Duration {
    /// The duration in seconds, for histograms and reports.
    public var secondsValue: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
