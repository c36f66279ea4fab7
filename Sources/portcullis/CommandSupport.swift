import ArgumentParser
import Foundation
import Logging

/// Helpers every subcommand shares.
enum CommandSupport {
    /// Sends logs to standard error at `level`, keeping standard output for results.
    static func bootstrapLogging(_ level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
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
