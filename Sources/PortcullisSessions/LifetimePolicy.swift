/// What one API definition says about its sessions.
public struct APISessionSettings: Sendable, Equatable {
    /// `api_id`.
    public var apiID: String
    /// `session_lifetime` in seconds; 0 means this API sets none.
    public var sessionLifetime: Int64
    /// `session_lifetime_respects_key_expiration`.
    public var respectsKeyExpiration: Bool
    /// `dont_set_quota_on_create`: keep the quota counter when a key is written.
    public var dontSetQuotaOnCreate: Bool

    /// Creates settings for one API.
    public init(apiID: String, sessionLifetime: Int64 = 0, respectsKeyExpiration: Bool = false, dontSetQuotaOnCreate: Bool = false) {
        self.apiID = apiID
        self.sessionLifetime = sessionLifetime
        self.respectsKeyExpiration = respectsKeyExpiration
        self.dontSetQuotaOnCreate = dontSetQuotaOnCreate
    }
}

/// How long a session record physically lives in the store (its TTL),
/// which is independent of `expires`: an expired key still exists and is
/// refused with 401 "Key has expired, please renew"; a deleted key is not
/// found (403). By default nothing is ever deleted.
///
/// Result convention: a positive number is a TTL in seconds; 0 means no
/// TTL; -1 means "never delete" and beats any TTL when several APIs are
/// combined.
///
/// Rules, in order (reference §8):
/// 1. `force_global_session_lifetime` → `global_session_lifetime`.
/// 2. `post_expiry_action` "delete", or "retain" with a non-zero
///    `post_expiry_grace_period`: no `expires` → 0; delete → `expires − now`
///    (at least 1); retain with grace -1 → -1; retain with grace g →
///    `expires − now + g` (at least 1).
/// 3. The key's own `session_lifetime`, if > 0.
/// 4. The API's `session_lifetime`, if > 0.
/// 5. `global_session_lifetime`, if > 0 — the rule Tyk *documents* (seed
///    000: "only active if the session lifetime has not been set"). Tyk's
///    current code (`SessionState.Lifetime`) uses the global lifetime only
///    when forced; set ``globalLifetimeIsFallback`` to false for that.
/// 6. Otherwise 0.
///
/// For rules 3–5, when key expiration is respected (the API flag, or the
/// gateway flag that forces it) and `expires` is later than `now +
/// lifetime`, the TTL stretches to `expires − now`; a key that never
/// expires is then never deleted.
public struct LifetimePolicy: Sendable, Equatable {
    /// `global_session_lifetime` in seconds.
    public var globalSessionLifetime: Int64
    /// `force_global_session_lifetime`.
    public var forceGlobalSessionLifetime: Bool
    /// The gateway's `session_lifetime_respects_key_expiration`, which forces
    /// the API flag on.
    public var respectKeyExpiration: Bool
    /// Whether `global_session_lifetime` applies when the API sets no
    /// lifetime (documented Tyk behaviour, the default) or only when forced
    /// (Tyk's code).
    public var globalLifetimeIsFallback: Bool

    /// Creates a policy; the defaults delete nothing.
    public init(globalSessionLifetime: Int64 = 0, forceGlobalSessionLifetime: Bool = false,
                respectKeyExpiration: Bool = false, globalLifetimeIsFallback: Bool = true) {
        self.globalSessionLifetime = globalSessionLifetime
        self.forceGlobalSessionLifetime = forceGlobalSessionLifetime
        self.respectKeyExpiration = respectKeyExpiration
        self.globalLifetimeIsFallback = globalLifetimeIsFallback
    }

    /// The lifetime for `session` under one API (nil: no API settings, as
    /// for a master key), at Unix time `now`.
    public func lifetime(for session: SessionState, api: APISessionSettings?, now: Int64) -> Int64 {
        if forceGlobalSessionLifetime { return globalSessionLifetime }
        let action = session.postExpiryAction
        let grace = session.postExpiryGracePeriod
        if action == "delete" || (action == "retain" && grace != 0) {
            if session.expires <= 0 { return 0 }
            if action == "delete" { return max(1, session.expires - now) }
            if grace < 0 { return -1 }
            return max(1, session.expires - now + grace)
        }
        let lifetime: Int64
        if session.sessionLifetime > 0 {
            lifetime = session.sessionLifetime
        } else if let api, api.sessionLifetime > 0 {
            lifetime = api.sessionLifetime
        } else if globalLifetimeIsFallback, globalSessionLifetime > 0 {
            lifetime = globalSessionLifetime
        } else {
            return 0
        }
        if respectKeyExpiration || (api?.respectsKeyExpiration ?? false) {
            if session.expires <= 0 { return session.expires < 0 ? -1 : 0 }
            if session.expires > now + lifetime { return session.expires - now }
        }
        return lifetime
    }

    /// The lifetime for a record serving every API in `apis` (the APIs of
    /// its `access_rights`): the largest wins, and -1 ("never") wins outright,
    /// as in Tyk's `ApplyLifetime`.
    public func lifetime(for session: SessionState, apis: [APISessionSettings], now: Int64) -> Int64 {
        guard !apis.isEmpty else { return lifetime(for: session, api: nil, now: now) }
        var longest: Int64 = 0
        for api in apis {
            let value = lifetime(for: session, api: api, now: now)
            if value == -1 { return -1 }
            longest = max(longest, value)
        }
        return longest
    }
}
