import Foundation

/// Which hosts `TykMakeHttpRequest` may reach (`plugin_http_allow` /
/// `plugin_http_deny` in the gateway config), so a plugin cannot be used to
/// reach internal addresses by accident.
///
/// A rule is a host name (`api.example.com`), a wildcard for its
/// subdomains (`*.example.com`), or an IP range in CIDR form
/// (`10.0.0.0/8`, `fe80::/10`); `localhost` also matches 127.0.0.0/8 and ::1.
/// A deny rule always wins; with an allow list, anything not on it is
/// refused. Hosts are matched as written in the URL: a name that resolves
/// to a denied address is not caught, so deny by name as well.
public struct PluginHTTPPolicy: Sendable, Equatable {
    /// Hosts plugins may call; empty means any host not denied.
    public var allow: [String]
    /// Hosts plugins may never call.
    public var deny: [String]

    /// The default: deny link-local addresses, where cloud metadata services answer.
    public static let defaultDeny = ["169.254.0.0/16", "fe80::/10"]

    /// Creates a policy.
    public init(allow: [String] = [], deny: [String] = PluginHTTPPolicy.defaultDeny) {
        self.allow = allow
        self.deny = deny
    }

    /// A rule that cannot be understood, for config errors.
    public static func invalidRule(_ rule: String) -> String? {
        let trimmed = rule.trimmingCharacters(in: .whitespaces).lowercased()
        if trimmed.isEmpty { return "an empty rule" }
        if trimmed.contains("/") {
            let parts = trimmed.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2, IPAddress(parts[0]) != nil, let bits = Int(parts[1]), bits >= 0,
                  bits <= (IPAddress(parts[0])?.bytes.count ?? 0) * 8 else {
                return "'\(rule)' is not a CIDR range such as 10.0.0.0/8"
            }
        }
        return nil
    }

    /// nil when `url` may be called, otherwise why not.
    public func refusal(for url: String) -> String? {
        guard let host = URLComponents(string: url)?.host?.lowercased(), !host.isEmpty else {
            return "the URL '\(url)' has no host"
        }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if let rule = deny.first(where: { Self.matches(bare, $0) }) {
            return "host '\(bare)' is denied by plugin_http_deny rule '\(rule)'"
        }
        if !allow.isEmpty, !allow.contains(where: { Self.matches(bare, $0) }) {
            return "host '\(bare)' is not in plugin_http_allow"
        }
        return nil
    }

    static func matches(_ host: String, _ rawRule: String) -> Bool {
        let rule = rawRule.trimmingCharacters(in: .whitespaces).lowercased()
        if rule.contains("/") {
            let parts = rule.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2, let network = IPAddress(parts[0]), let bits = Int(parts[1]) else { return false }
            let candidates: [IPAddress] = host == "localhost" ? [IPAddress("127.0.0.1"), IPAddress("::1")].compactMap { $0 } : [IPAddress(host)].compactMap { $0 }
            return candidates.contains { $0.isInside(network, prefixBits: bits) }
        }
        if rule.hasPrefix("*.") { return host.hasSuffix(String(rule.dropFirst())) && host.count > rule.count - 1 }
        if rule == "localhost" { return host == "localhost" || (IPAddress(host)?.isLoopback ?? false) }
        if let ruleAddress = IPAddress(rule), let hostAddress = IPAddress(host) { return ruleAddress == hostAddress }
        return host == rule
    }
}

/// An IPv4 or IPv6 address as bytes.
struct IPAddress: Equatable {
    let bytes: [UInt8]

    init?(_ text: String) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
        } else {
            return nil
        }
    }

    var isLoopback: Bool {
        bytes.count == 4 ? bytes[0] == 127 : bytes == Array(repeating: 0, count: 15) + [1]
    }

    func isInside(_ network: IPAddress, prefixBits: Int) -> Bool {
        guard bytes.count == network.bytes.count else { return false }
        var remaining = prefixBits
        for index in bytes.indices where remaining > 0 {
            let take = min(8, remaining)
            let mask: UInt8 = take == 8 ? 0xff : ~(0xff >> UInt8(take))
            if bytes[index] & mask != network.bytes[index] & mask { return false }
            remaining -= take
        }
        return true
    }
}
