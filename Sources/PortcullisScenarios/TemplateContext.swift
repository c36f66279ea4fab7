import Crypto
import Foundation
import PortcullisCore

/// Resolves the placeholders scenario files may use in strings:
/// `{{now}}`, `{{now+60}}`, `{{now-24h}}` (Unix seconds on the scenario's
/// clock), `{{upstream}}` (the loopback upstream's base URL) and
/// `{{scenario_dir}}`, and `{{jwt secret=S sub=alice exp=now+60}}` (an
/// HS256 token signed with `S`; every other `name=value` is a claim, and
/// `now±…` values become Unix seconds). A string that is exactly one `{{now…}}` becomes an
/// integer, so `"expires": "{{now+60}}"` stores a number as Tyk requires.
public struct TemplateContext: Sendable {
    /// Current Unix seconds.
    public var now: Int64
    /// Base URL of the upstream, if one runs.
    public var upstream: String
    /// Folder of the scenario file.
    public var scenarioDirectory: String

    /// Creates a context.
    public init(now: Int64, upstream: String = "", scenarioDirectory: String = ".") {
        self.now = now
        self.upstream = upstream
        self.scenarioDirectory = scenarioDirectory
    }

    /// Resolves every string inside `value`.
    public func resolve(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text):
            if let whole = Self.wholeTime(text), let seconds = offset(whole) { return .int(now + seconds) }
            return .string(resolveText(text))
        case .array(let items): return .array(items.map(resolve))
        case .object(let fields): return .object(fields.mapValues(resolve))
        default: return value
        }
    }

    /// Substitutes placeholders inside a longer string.
    public func resolveText(_ text: String) -> String {
        guard text.contains("{{") else { return text }
        var output = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            output += rest[..<open.lowerBound]
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            output += replacement(name) ?? "{{\(name)}}"
            rest = rest[close.upperBound...]
        }
        return output + rest
    }

    private func replacement(_ name: String) -> String? {
        switch name {
        case "upstream": return upstream
        case "scenario_dir": return scenarioDirectory
        default:
            if name.hasPrefix("jwt ") { return jwt(name.dropFirst(4)) }
            return offset(name).map { String(now + $0) }
        }
    }

    /// An HS256 token from `secret=S claim=value …`; nil without a secret.
    private func jwt(_ arguments: Substring) -> String? {
        var secret: String?
        var claims: [String: JSONValue] = [:]
        for pair in arguments.split(separator: " ", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return nil }
            if parts[0] == "secret" {
                secret = parts[1]
            } else if let seconds = offset(parts[1]) {
                claims[parts[0]] = .int(now + seconds)
            } else {
                claims[parts[0]] = .string(parts[1])
            }
        }
        guard let secret else { return nil }
        let signingInput = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)) + "."
            + Base64URL.encode(Array(JSONValue.object(claims).jsonString().utf8))
        let signature = HMAC<SHA256>.authenticationCode(for: Array(signingInput.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return signingInput + "." + Base64URL.encode(signature)
    }

    /// `now`, `now+60`, `now-1d` → seconds relative to now.
    private func offset(_ name: String) -> Int64? {
        guard name.hasPrefix("now") else { return nil }
        let rest = name.dropFirst(3).trimmingCharacters(in: .whitespaces)
        if rest.isEmpty { return 0 }
        guard let sign = rest.first, sign == "+" || sign == "-",
              let seconds = Duration.seconds(String(rest.dropFirst()).trimmingCharacters(in: .whitespaces)) else { return nil }
        return Int64(sign == "+" ? seconds : -seconds)
    }

    private static func wholeTime(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("{{"), trimmed.hasSuffix("}}"), trimmed.count > 4 else { return nil }
        let inner = trimmed.dropFirst(2).dropLast(2)
        guard !inner.contains("{{"), !inner.contains("}}") else { return nil }
        return inner.trimmingCharacters(in: .whitespaces)
    }

    /// Durations: `90`, `90s`, `15m`, `24h`, `2d`, `1.5h`, `250ms`.
    enum Duration {
        static func seconds(_ text: String) -> Double? {
            let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
            for (suffix, scale) in units where text.hasSuffix(suffix) {
                guard let value = Double(text.dropLast(suffix.count)), value.isFinite else { return nil }
                return value * scale
            }
            guard let value = Double(text), value.isFinite else { return nil }
            return value
        }
    }
}
