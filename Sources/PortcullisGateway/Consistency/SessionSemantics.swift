/// How a gateway node makes a plugin's session write visible to the auth
/// stage of the same request.
public enum SessionSemantics: String, Sendable, CaseIterable {
    /// The consistency contract: a `TykSetKeyData` returns only once the
    /// store acknowledged the write, and auth and key expiry read the
    /// request's own writes first. A renewal can never be refused by the
    /// request that made it.
    case consistent
    /// Tyk's unsafe behaviour, reproduced on purpose so scenarios can show
    /// they detect the race: auth reads a node-local cache that keeps a
    /// session for 10 s whatever happens to the store, and plugin writes
    /// are queued and land only after the response (Tyk v3's
    /// `optimisations_use_async_session_write`). Never for production.
    case tykRace = "tyk-race"
}
