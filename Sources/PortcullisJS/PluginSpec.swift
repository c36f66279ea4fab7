import PortcullisCore

/// The third argument of every handler: which API is calling and its
/// `config_data`, shaped as Tyk's `{"APIID", "OrgID", "config_data"}`.
public struct PluginSpec: Sendable, Equatable, Codable {
    /// The API's `api_id`.
    public var apiID: String { didSet { text = Self.render(apiID, orgID, configData) } }
    /// The API's `org_id`.
    public var orgID: String { didSet { text = Self.render(apiID, orgID, configData) } }
    /// The API definition's `config_data`; nil when `config_data_disabled`.
    public var configData: JSONValue? { didSet { text = Self.render(apiID, orgID, configData) } }
    /// The object as JSON, written once: every call of every hook passes it.
    private var text: String

    enum CodingKeys: String, CodingKey {
        case apiID = "APIID", orgID = "OrgID", configData = "config_data"
    }

    /// Creates a spec object.
    public init(apiID: String, orgID: String = "", configData: JSONValue? = nil) {
        self.apiID = apiID
        self.orgID = orgID
        self.configData = configData
        text = Self.render(apiID, orgID, configData)
    }

    /// Reads `{"APIID", "OrgID", "config_data"}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(apiID: try container.decode(String.self, forKey: .apiID),
                  orgID: try container.decodeIfPresent(String.self, forKey: .orgID) ?? "",
                  configData: try container.decodeIfPresent(JSONValue.self, forKey: .configData))
    }

    /// Writes `{"APIID", "OrgID", "config_data"}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(apiID, forKey: .apiID)
        try container.encode(orgID, forKey: .orgID)
        try container.encodeIfPresent(configData, forKey: .configData)
    }

    /// Specs are equal when their fields are.
    public static func == (lhs: PluginSpec, rhs: PluginSpec) -> Bool {
        lhs.apiID == rhs.apiID && lhs.orgID == rhs.orgID && lhs.configData == rhs.configData
    }

    /// `{"APIID", "OrgID", "config_data"}`; config_data omitted when disabled.
    func jsonText() -> String { text }
}
