import Foundation
import Logging
import PortcullisCore

/// A log line captured from a scenario's gateway nodes.
public struct CapturedLogLine: Sendable {
    /// The node that logged it.
    public var node: String
    /// Its level.
    public var level: Logger.Level
    /// The message alone.
    public var message: String
    /// The metadata, values as text.
    public var metadata: [String: String]

    /// The message and metadata (`key=value`, sorted), as one line.
    public var text: String {
        let details = metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return details.isEmpty ? message : "\(message) \(details)"
    }
}

/// Keeps every line the nodes of one scenario log, so `expect_log` can
/// search them; optionally echoes them to standard error. Tests use it to
/// check what a gateway logged.
public final class LogBook: Sendable {
    private let lines = Locked<[CapturedLogLine]>([])
    let echo: Bool

    /// Creates an empty book; `echo` also prints each line to standard error.
    public init(echo: Bool = false) {
        self.echo = echo
    }

    /// Lines captured so far.
    public var count: Int { lines.withLock { $0.count } }

    /// Every line captured.
    public var all: [CapturedLogLine] { lines.withLock { $0 } }

    /// The lines captured since `mark` (a previous ``count``).
    public func since(_ mark: Int) -> [CapturedLogLine] {
        lines.withLock { Array($0[min(mark, $0.count)...]) }
    }

    func append(_ line: CapturedLogLine) {
        lines.withLock { $0.append(line) }
        if echo { FileHandle.standardError.write(Data("  [\(line.node)] \(line.level) \(line.text)\n".utf8)) }
    }

    /// A logger whose lines land here, tagged with `node`.
    public func logger(node: String, level: Logger.Level = .debug) -> Logger {
        var logger = Logger(label: "portcullis") { _ in CaptureHandler(book: self, node: node) }
        logger.logLevel = level
        return logger
    }
}

private struct CaptureHandler: LogHandler {
    let book: LogBook
    let node: String
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        book.append(CapturedLogLine(node: node, level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
    }
}
