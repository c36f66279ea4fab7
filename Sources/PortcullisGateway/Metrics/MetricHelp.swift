import PortcullisSessions

/// What each Portcullis metric means, as the `# HELP` line of its family.
/// swift-metrics carries no help text, so the exposition adds it here.
enum MetricHelp {
    static let text: [String: String] = [
        GatewayMetrics.Name.requests: "Requests answered, by API and status code.",
        GatewayMetrics.Name.requestErrors: "Requests refused or failed, by API and reason (a fixed name per refusal).",
        GatewayMetrics.Name.authFailures:
            "Requests refused by authentication, by reason (missing, not_found, not_granted, expired, inactive, policy, jwt_expired, jwt_invalid).",
        GatewayMetrics.Name.keysExpiredRejected: "Requests refused with 401 because the key had expired.",
        GatewayMetrics.Name.pluginSessionWrites: "TykSetKeyData writes acknowledged by the store.",
        GatewayMetrics.Name.pluginDuration: "Time spent in each plugin call, by API and middleware name.",
        SessionStatistics.Name.keysCreated: "Session writes that created a key.",
        SessionStatistics.Name.keysRenewed: "Session writes that moved an existing key's expiry later.",
        SessionStatistics.Name.keysRevoked: "Keys deleted or deactivated.",
        SessionStatistics.Name.cacheHits: "Auth lookups answered by the node-local session cache.",
        SessionStatistics.Name.cacheMisses: "Auth lookups that read the session store.",
        SessionStatistics.Name.cacheHitRatio: "Cache hits over all auth lookups since start (0 before the first).",
        SessionStatistics.Name.storeLatency: "Latency of session store operations, by operation.",
        RuntimeMetrics.Name.residentMemory: "Resident set size of the process, bytes.",
        RuntimeMetrics.Name.virtualMemory: "Virtual memory size of the process, bytes.",
        RuntimeMetrics.Name.cpuSeconds: "User and system CPU time the process has used, seconds.",
        RuntimeMetrics.Name.openFDs: "File descriptors the process has open.",
        RuntimeMetrics.Name.maxFDs: "The process' limit on open file descriptors.",
        RuntimeMetrics.Name.startTime: "When the process started, Unix seconds.",
        RuntimeMetrics.Name.jsQueueDepth: "JS calls queued or running on the engine's worker threads.",
        RuntimeMetrics.Name.jsWorkers: "JS worker threads.",
        RuntimeMetrics.Name.jsWorkersWaiting: "JS worker threads whose running call is blocked on a store round trip or an HTTP call.",
        RuntimeMetrics.Name.jsCalls: "JS calls the engine's workers started.",
        RuntimeMetrics.Name.jsTimeouts: "JS calls stopped for running longer than jsvm_timeout.",
    ]

    /// `exposition` with `# HELP name …` before each `# TYPE name …` line
    /// whose family is in ``text``.
    static func annotate(_ exposition: String) -> String {
        var out = ""
        out.reserveCapacity(exposition.utf8.count + 2048)
        for line in exposition.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE "), let name = line.dropFirst(7).split(separator: " ").first, let help = text[String(name)] {
                out += "# HELP \(name) \(help)\n"
            }
            out += line
            out += "\n"
        }
        if out.hasSuffix("\n\n") { out.removeLast() }
        return out
    }
}
