import PortcullisCore

/// The third argument of every handler: which API is calling and its
/// `config_data`, shaped as Tyk's `{"APIID", "OrgID", "config_data"}`.
public struct PluginSpec: Sendable, Equatable, Codable {
    /// The API's `api_id`.
    public var apiID: String
    /// The API's `org_id`.
    public var orgID: String
    /// The API definition's `config_data`; nil when `config_data_disabled`.
    public var configData: JSONValue?

    enum CodingKeys: String, CodingKey {
        case apiID = "APIID", orgID = "OrgID", configData = "config_data"
    }

    /// Creates a spec object.
    public init(apiID: String, orgID: String = "", configData: JSONValue? = nil) {
        self.apiID = apiID
        self.orgID = orgID
        self.configData = configData
    }
}
