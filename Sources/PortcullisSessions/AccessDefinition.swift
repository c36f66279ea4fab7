import PortcullisCore

/// One entry of a session's `access_rights`: which API (and versions, URLs,
/// limits) the key may use. Fields the gateway does not interpret are kept
/// as raw JSON so a round trip changes nothing.
public struct AccessDefinition: Sendable, Equatable {
    /// `api_name`.
    public var apiName: String = ""
    /// `api_id`.
    public var apiID: String = ""
    /// `versions`.
    public var versions: [String] = []
    /// `allowed_urls`: `[{url, methods}]` or null.
    public var allowedURLs: JSONValue = .null
    /// `restricted_types`.
    public var restrictedTypes: JSONValue = .null
    /// `allowed_types`.
    public var allowedTypes: JSONValue = .null
    /// `limit`: per-API rate and quota, or null.
    public var limit: JSONValue = .null
    /// `field_access_rights`.
    public var fieldAccessRights: JSONValue = .null
    /// `disable_introspection`.
    public var disableIntrospection: Bool = false
    /// `allowance_scope`.
    public var allowanceScope: String = ""
    /// `endpoints`.
    public var endpoints: JSONValue = .null
    /// Members this type does not model, written back unchanged.
    public var unknownFields: [String: JSONValue] = [:]

    /// Creates an entry for one API.
    public init(apiID: String = "", apiName: String = "", versions: [String] = []) {
        self.apiID = apiID
        self.apiName = apiName
        self.versions = versions
    }

    /// Decodes an entry; `path` names it in errors (`access_rights.<api>`)
    /// and is made only for one. The members are sorted out by name in one
    /// pass, then read in a fixed order so that of several wrong fields the
    /// same one is always reported: a session write decodes an entry per
    /// API, and looking each field up by its hash cost more than the rest.
    init(json object: [String: JSONValue], path: @autoclosure () -> String) throws {
        typealias Read = JSONFieldReader
        var apiName, apiID, versions, allowedURLs, restrictedTypes, allowedTypes, limit, fieldAccessRights,
            disableIntrospection, allowanceScope, endpoints: JSONValue?
        for (name, value) in object {
            switch name {
            case "api_name": apiName = value
            case "api_id": apiID = value
            case "versions": versions = value
            case "allowed_urls": allowedURLs = value
            case "restricted_types": restrictedTypes = value
            case "allowed_types": allowedTypes = value
            case "limit": limit = value
            case "field_access_rights": fieldAccessRights = value
            case "disable_introspection": disableIntrospection = value
            case "allowance_scope": allowanceScope = value
            case "endpoints": endpoints = value
            default: unknownFields[name] = value
            }
        }
        func name(_ field: String) -> String { "\(path()).\(field)" }
        /// A typed member: nil when absent or null (the zero value, as Go's decoder).
        func typed(_ value: JSONValue?) -> JSONValue? {
            if case .null? = value { return nil }
            return value
        }
        self.apiName = try typed(apiName).map { try Read.string($0, field: name("api_name")) } ?? ""
        self.apiID = try typed(apiID).map { try Read.string($0, field: name("api_id")) } ?? ""
        self.versions = try typed(versions).map { try Read.strings($0, field: name("versions")) } ?? []
        self.allowedURLs = try allowedURLs.map { try Read.raw($0, field: name("allowed_urls"), allowed: "an array") } ?? .null
        self.restrictedTypes = try restrictedTypes.map { try Read.raw($0, field: name("restricted_types"), allowed: "an array") } ?? .null
        self.allowedTypes = try allowedTypes.map { try Read.raw($0, field: name("allowed_types"), allowed: "an array") } ?? .null
        self.limit = try limit.map { try Read.raw($0, field: name("limit"), allowed: "an object") } ?? .null
        self.fieldAccessRights = try fieldAccessRights.map { try Read.raw($0, field: name("field_access_rights"), allowed: "an array") } ?? .null
        self.disableIntrospection = try typed(disableIntrospection).map { try Read.bool($0, field: name("disable_introspection")) } ?? false
        self.allowanceScope = try typed(allowanceScope).map { try Read.string($0, field: name("allowance_scope")) } ?? ""
        self.endpoints = try endpoints.map { try Read.raw($0, field: name("endpoints"), allowed: "an array") } ?? .null
    }

    /// Appends the entry as compact JSON with sorted keys, exactly what
    /// ``json`` serialises to.
    func writeJSON(into output: inout JSONOutput) {
        guard unknownFields.isEmpty else {
            json.write(into: &output)
            return
        }
        var out = SessionJSONWriter(continuing: output)
        out.open()
        out.field("allowance_scope", allowanceScope)
        out.field("allowed_types", allowedTypes)
        out.field("allowed_urls", allowedURLs)
        out.field("api_id", apiID)
        out.field("api_name", apiName)
        out.field("disable_introspection", disableIntrospection)
        out.field("endpoints", endpoints)
        out.field("field_access_rights", fieldAccessRights)
        out.field("limit", limit)
        out.field("restricted_types", restrictedTypes)
        out.field("versions", versions)
        output = out.closeOutput()
    }

    /// The entry as a JSON object, every modelled field present.
    var json: JSONValue {
        var object = unknownFields
        object["api_name"] = .string(apiName)
        object["api_id"] = .string(apiID)
        object["versions"] = .array(versions.map { .string($0) })
        object["allowed_urls"] = allowedURLs
        object["restricted_types"] = restrictedTypes
        object["allowed_types"] = allowedTypes
        object["limit"] = limit
        object["field_access_rights"] = fieldAccessRights
        object["disable_introspection"] = .bool(disableIntrospection)
        object["allowance_scope"] = .string(allowanceScope)
        object["endpoints"] = endpoints
        return .object(object)
    }
}
