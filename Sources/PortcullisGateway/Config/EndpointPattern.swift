import Foundation

/// A path in `extended_paths` (a virtual endpoint's `path`) as Tyk matches
/// it: a regular expression, not anchored, after mux templates become
/// segment matches (`/users/{id}` → `/users/([^/]+)`) and wildcards become
/// `[^/]+` between slashes and `.*` at the end. So `"path": "logout"`
/// serves `/…/logout`, and `/status` also serves `/status/all`, unless
/// `http_server_options.enable_path_prefix_matching` /
/// `enable_path_suffix_matching` anchor the pattern. The pattern is tried
/// on the path with the listen path stripped, then on the full path.
public struct EndpointPattern: Sendable, Equatable {
    /// The path as written in the API definition.
    public let source: String
    /// The regular expression it became (before anchoring).
    public let expression: String

    /// Translates `path`; throws when the result is not a valid regular
    /// expression, with the reason.
    public init(_ path: String) throws {
        source = path
        var pattern = path
        let opening = pattern.filter { $0 == "{" }.count
        if opening > 0 && opening == pattern.filter({ $0 == "}" }).count {
            pattern = pattern.replacingOccurrences(of: #"\{[^}]+\}"#, with: "([^/]+)", options: .regularExpression)
        }
        if pattern.contains("/*") {
            pattern = pattern.replacingOccurrences(of: "/*/", with: "/[^/]+/")
            pattern = pattern.replacingOccurrences(of: "/*", with: "/.*")
        }
        expression = pattern
        _ = try NSRegularExpression(pattern: pattern)
    }

    /// The compiled matcher under the gateway's matching options.
    public func matcher(prefix: Bool, suffix: Bool, ignoreCase: Bool) -> Matcher {
        var pattern = expression
        if prefix && pattern.hasPrefix("/") { pattern = "^" + pattern }
        if suffix && !pattern.hasSuffix("$") { pattern += "$" }
        let regex = try? NSRegularExpression(pattern: pattern, options: ignoreCase ? [.caseInsensitive] : [])
        return Matcher(regex: regex)
    }

    /// Matches request paths.
    public struct Matcher: @unchecked Sendable {
        // NSRegularExpression is immutable once made and safe to share.
        fileprivate let regex: NSRegularExpression?

        /// Whether the pattern occurs in `path`.
        public func matches(_ path: String) -> Bool {
            guard let regex else { return false }
            return regex.firstMatch(in: path, range: NSRange(path.startIndex..., in: path)) != nil
        }
    }
}
