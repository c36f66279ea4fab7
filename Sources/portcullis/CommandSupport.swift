import ArgumentParser
import Foundation
import Logging
import PortcullisGateway

/// Helpers every subcommand shares.
enum CommandSupport {
    /// How log lines are written.
    enum LogFormat: String, ExpressibleByArgument, CaseIterable {
        /// Human-readable lines (swift-log's stream format).
        case text
        /// One JSON object per line, metadata as top-level fields.
        case json
    }

    /// Sends logs to standard error at `level`, keeping standard output for results.
    static func bootstrapLogging(_ level: Logger.Level, format: LogFormat = .text) {
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }

    /// Reads a text file named on the command line, or fails with a usage error naming it.
    static func readFile(_ path: String, what: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read \(what) file '\(path)'")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
