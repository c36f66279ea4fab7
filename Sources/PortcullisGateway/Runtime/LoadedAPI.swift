import PortcullisJS

/// An API definition that has been loaded: its plugins are in the engine
/// under `realm`, and its spec object is ready for handlers. A class, so
/// every request that carries it shares one copy instead of retaining each
/// field of the definition.
public final class LoadedAPI: Sendable {
    /// The definition.
    public let definition: APIDefinition
    /// The engine realm holding this API's plugins (changes on every reload).
    public let realm: String
    /// The spec object handlers receive.
    public let spec: PluginSpec
    /// The token checker when the API uses JWT auth.
    public let jwt: JWTVerifier?

    /// Creates a loaded API.
    public init(definition: APIDefinition, realm: String, jwt: JWTVerifier? = nil) {
        self.definition = definition
        self.realm = realm
        self.jwt = jwt
        self.spec = PluginSpec(apiID: definition.apiID, orgID: definition.orgID, configData: definition.configData)
    }
}
