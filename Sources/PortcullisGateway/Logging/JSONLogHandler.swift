import Foundation
import Logging
import PortcullisCore

/// Writes one JSON object per line, for log collectors: `ts` (RFC 3339
/// with milliseconds, UTC), `level`, `message`, `label`, and every
/// metadata field at the top level (`request_id`, `api_id`, `key`,
/// `plugin`, …). Keys are already masked by the code that logs them.
public struct JSONLogHandler: LogHandler {
    /// Where lines go: standard error unless a test captures them.
    public typealias Sink = @Sendable (String) -> Void

    /// The logger label (`portcullis`, …).
    public let label: String
    /// Lines below this level are dropped.
    public var logLevel: Logger.Level = .info
    /// Fields added to every line of this logger.
    public var metadata: Logger.Metadata = [:]
    private let sink: Sink

    /// A handler writing to standard error.
    public init(label: String) {
        self.init(label: label) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    /// A handler writing to `sink`.
    public init(label: String, sink: @escaping Sink) {
        self.label = label
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        sink(Self.line(event: event, label: label, base: metadata))
    }

    /// The JSON text of one event; fields from `base` are overridden by the
    /// event's own metadata, and never override `ts`, `level` or `message`.
    public static func line(event: LogEvent, label: String, base: Logger.Metadata) -> String {
        var fields: [String: JSONValue] = [:]
        for (key, value) in base.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }) {
            fields[key] = json(value)
        }
        fields["ts"] = .string(timestamp(Date()))
        fields["level"] = .string(event.level.rawValue)
        fields["message"] = .string("\(event.message)")
        fields["label"] = .string(label)
        if event.level >= .error { fields["source"] = .string("\(event.file):\(event.line)") }
        return JSONValue.object(fields).jsonString()
    }

    private static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): return .string(text)
        case .stringConvertible(let convertible): return .string(convertible.description)
        case .array(let items): return .array(items.map(json))
        case .dictionary(let entries): return .object(entries.mapValues(json))
        }
    }

    private static let timeFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    private static func timestamp(_ date: Date) -> String {
        timeFormat.format(date)
    }
}
