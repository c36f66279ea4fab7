/// Every way the gateway refuses a request, with the status code and the
/// message Tyk sends for it, so clients written against Tyk see the same
/// `{"error": "..."}` bodies.
public enum GatewayError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No key in the auth header: 401 "Authorization field missing".
    case authorizationMissing
    /// Unknown key or too short: 403 "Access to this API has been disallowed".
    case accessDisallowed
    /// A known key whose `access_rights` do not grant this API: the same
    /// 403 as ``accessDisallowed`` (clients cannot tell the two apart), a
    /// separate case so metrics and logs can.
    case notGranted
    /// The key's policies cannot be applied (unknown id, other
    /// organisation, no access rights): the same 403 as ``accessDisallowed``,
    /// with the reason in the log.
    case policyRefused(String)
    /// A JWT names no usable policy for its session: 403
    /// "Key not authorized: no matching policy".
    case noMatchingPolicy(String)
    /// A JWT was refused before any session was looked up: 401
    /// "Key not authorised: …" naming why.
    case jwtRejected(JWTRejection)
    /// `is_inactive`: 403 "Key is inactive, please renew".
    case keyInactive
    /// `expires` in the past: 401 "Key has expired, please renew".
    case keyExpired
    /// Rate limit hit: 429 "Rate Limit Exceeded".
    case rateLimited
    /// The API-level rate limit hit: 429 "API Rate Limit Exceeded".
    case apiRateLimited
    /// Quota used up: 403 "Quota exceeded".
    case quotaExceeded
    /// A plugin asked for an error response (`ReturnOverrides`, code ≥ 400).
    case pluginOverride(status: Int, message: String)
    /// A plugin failed (exception, timeout, invalid return): 500.
    case pluginFailed(String)
    /// A plugin ran past `jsvm_timeout`: 504; the request goes no further.
    case pluginTimedOut(String)
    /// Request headers larger than `max_header_bytes`: 431.
    case headersTooLarge(limit: Int)
    /// The session store cannot be reached: 503; the gateway fails closed.
    case storeUnavailable(String)
    /// The upstream could not be reached: 502.
    case upstreamUnreachable(String)
    /// The upstream did not answer in time: 504.
    case upstreamTimeout(String)
    /// No API listens on this path: 404.
    case noAPI(path: String)
    /// The request body is larger than allowed: 413.
    case bodyTooLarge(limit: Int)
    /// The request itself is malformed: 400.
    case badRequest(String)
    /// More `tyk://` loops in one request than its `loop_limit`: 500.
    case loopTooDeep(limit: Int)
    /// A `tyk://` loop names no API being served: 500.
    case loopTargetUnknown(String)

    /// The HTTP status sent.
    public var status: Int {
        switch self {
        case .authorizationMissing, .keyExpired, .jwtRejected: return 401
        case .accessDisallowed, .notGranted, .keyInactive, .quotaExceeded, .policyRefused, .noMatchingPolicy: return 403
        case .rateLimited, .apiRateLimited: return 429
        case .pluginOverride(let status, _): return status
        case .pluginFailed: return 500
        case .pluginTimedOut: return 504
        case .headersTooLarge: return 431
        case .storeUnavailable: return 503
        case .upstreamUnreachable: return 502
        case .upstreamTimeout: return 504
        case .noAPI: return 404
        case .bodyTooLarge: return 413
        case .badRequest: return 400
        case .loopTooDeep, .loopTargetUnknown: return 500
        }
    }

    /// The message in the `{"error": ...}` body.
    public var message: String {
        switch self {
        case .authorizationMissing: return "Authorization field missing"
        case .accessDisallowed, .notGranted, .policyRefused: return "Access to this API has been disallowed"
        case .noMatchingPolicy: return "Key not authorized: no matching policy"
        case .jwtRejected(let rejection): return "Key not authorised: \(rejection.message)"
        case .keyInactive: return "Key is inactive, please renew"
        case .keyExpired: return "Key has expired, please renew"
        case .rateLimited: return "Rate Limit Exceeded"
        case .apiRateLimited: return "API Rate Limit Exceeded"
        case .quotaExceeded: return "Quota exceeded"
        case .pluginOverride(_, let message): return message
        case .pluginFailed: return "Internal Server Error"
        case .pluginTimedOut: return "Middleware timed out"
        case .headersTooLarge(let limit): return "Request header fields too large (limit \(limit) bytes)"
        case .storeUnavailable: return "Session store unavailable, please retry"
        case .upstreamUnreachable: return "There was a problem proxying the request"
        case .upstreamTimeout: return "Upstream service reached hard timeout."
        case .noAPI: return "No API is listening on this path"
        case .bodyTooLarge(let limit): return "Request body too large (limit \(limit) bytes)"
        case .badRequest(let reason): return reason
        case .loopTooDeep(let limit): return "Loop level too deep. Found more than \(limit) loops in single request"
        case .loopTargetUnknown: return "Can't detect loop target"
        }
    }

    /// A short fixed name for the `reason` label of
    /// `portcullis_request_errors_total`: one per case, never text a plugin
    /// or a client chose, so the label's values stay bounded.
    public var metricReason: String {
        switch self {
        case .authorizationMissing: return "authorization_missing"
        case .accessDisallowed: return "access_disallowed"
        case .notGranted: return "not_granted"
        case .policyRefused, .noMatchingPolicy: return "policy"
        case .jwtRejected(.expired): return "jwt_expired"
        case .jwtRejected: return "jwt_invalid"
        case .keyInactive: return "key_inactive"
        case .keyExpired: return "key_expired"
        case .rateLimited: return "rate_limited"
        case .apiRateLimited: return "api_rate_limited"
        case .quotaExceeded: return "quota_exceeded"
        case .pluginOverride: return "plugin_override"
        case .pluginFailed: return "plugin_failed"
        case .pluginTimedOut: return "plugin_timeout"
        case .headersTooLarge: return "headers_too_large"
        case .storeUnavailable: return "store_unavailable"
        case .upstreamUnreachable: return "upstream_unreachable"
        case .upstreamTimeout: return "upstream_timeout"
        case .noAPI: return "no_api"
        case .bodyTooLarge: return "body_too_large"
        case .badRequest: return "bad_request"
        case .loopTooDeep: return "loop_too_deep"
        case .loopTargetUnknown: return "loop_target_unknown"
        }
    }

    /// Why auth refused the request, for `portcullis_auth_failures_total`;
    /// nil for refusals that are not about the credential.
    public var authFailureReason: String? {
        switch self {
        case .authorizationMissing: return "missing"
        case .accessDisallowed: return "not_found"
        case .notGranted: return "not_granted"
        case .keyExpired: return "expired"
        case .keyInactive: return "inactive"
        case .policyRefused, .noMatchingPolicy: return "policy"
        case .jwtRejected(.expired): return "jwt_expired"
        case .jwtRejected: return "jwt_invalid"
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .pluginFailed(let detail), .pluginTimedOut(let detail), .storeUnavailable(let detail), .upstreamUnreachable(let detail),
             .upstreamTimeout(let detail), .loopTargetUnknown(let detail), .policyRefused(let detail), .noMatchingPolicy(let detail):
            return "\(status) \(message): \(detail)"
        default:
            return "\(status) \(message)"
        }
    }
}
