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

    /// Decodes an entry; `path` names it in errors (`access_rights.<api>`).
    init(json object: [String: JSONValue], path: String) throws {
        var reader = JSONFieldReader(object, path: path)
        apiName = try reader.string("api_name")
        apiID = try reader.string("api_id")
        versions = try reader.strings("versions")
        allowedURLs = try reader.raw("allowed_urls", default: .null, allowed: "an array")
        restrictedTypes = try reader.raw("restricted_types", default: .null, allowed: "an array")
        allowedTypes = try reader.raw("allowed_types", default: .null, allowed: "an array")
        limit = try reader.raw("limit", default: .null, allowed: "an object")
        fieldAccessRights = try reader.raw("field_access_rights", default: .null, allowed: "an array")
        disableIntrospection = try reader.bool("disable_introspection")
        allowanceScope = try reader.string("allowance_scope")
        endpoints = try reader.raw("endpoints", default: .null, allowed: "an array")
        unknownFields = reader.unread
    }

    /// Appends the entry as compact JSON with sorted keys, exactly what
    /// ``json`` serialises to.
    func writeJSON(into bytes: inout [UInt8]) {
        guard unknownFields.isEmpty else {
            json.write(into: &bytes)
            return
        }
        var out = SessionJSONWriter(appendingTo: bytes)
        bytes = []
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
        bytes = out.closeBytes()
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
