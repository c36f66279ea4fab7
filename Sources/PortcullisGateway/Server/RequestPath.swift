/// Request paths as routing sees them.
enum RequestPath {
    /// `path` with `.` and `..` segments (also percent-encoded ones)
    /// resolved, so `/api/../tyk/keys` cannot slip past listen-path routing
    /// or reach the upstream; nil when it climbs above the root.
    static func normalised(_ path: String) -> String? {
        // Most paths have no dot at all: nothing to resolve.
        guard path.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "%") }) else { return path }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard segments.contains(where: { isDot($0) || isDotDot($0) }) else { return path }
        var kept: [Substring] = []
        for segment in segments {
            if isDot(segment) { continue }
            if isDotDot(segment) {
                guard !kept.isEmpty else { return nil }
                kept.removeLast()
                continue
            }
            kept.append(segment)
        }
        let trailing = segments.last.map { isDot($0) || isDotDot($0) } ?? false
        return "/" + kept.joined(separator: "/") + (trailing && !kept.isEmpty ? "/" : "")
    }

    private static func isDot(_ segment: Substring) -> Bool {
        segment == "." || segment.lowercased() == "%2e"
    }

    private static func isDotDot(_ segment: Substring) -> Bool {
        let lowered = segment.lowercased()
        return lowered == ".." || lowered == "%2e%2e" || lowered == ".%2e" || lowered == "%2e."
    }
}
