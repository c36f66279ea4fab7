import PortcullisCore

/// Writes the fixed-shape objects handed to plugins as JSON text directly,
/// several times cheaper than `JSONEncoder` on the per-request path.
struct JSONWriter {
    private(set) var text = ""

    init(capacity: Int = 512) {
        text.reserveCapacity(capacity)
    }

    mutating func string(_ value: String) {
        text.append("\"")
        if !ByteScan.needsJSONEscape(value) {
            text.append(value)
            text.append("\"")
            return
        }
        var start = value.unicodeScalars.startIndex
        let scalars = value.unicodeScalars
        var index = start
        while index < scalars.endIndex {
            let scalar = scalars[index]
            let escape: String?
            switch scalar {
            case "\"": escape = "\\\""
            case "\\": escape = "\\\\"
            case "\n": escape = "\\n"
            case "\r": escape = "\\r"
            case "\t": escape = "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    escape = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    escape = nil
                }
            }
            if let escape {
                text.unicodeScalars.append(contentsOf: scalars[start..<index])
                text.append(escape)
                start = scalars.index(after: index)
            }
            index = scalars.index(after: index)
        }
        text.unicodeScalars.append(contentsOf: scalars[start..<scalars.endIndex])
        text.append("\"")
    }

    mutating func raw(_ fragment: String) {
        text.append(fragment)
    }

    mutating func key(_ name: String) {
        string(name)
        text.append(":")
    }

    /// Map keys in byte order, as Go's encoding/json writes them, so a
    /// plugin sees the same key order on every run and on every node.
    private static func sortedKeys<Value>(_ map: [String: Value]) -> [String] {
        map.count < 2 ? Array(map.keys) : map.keys.sorted(by: ByteOrder.precedes)
    }

    mutating func stringMap(_ map: [String: String]) {
        text.append("{")
        var first = true
        for name in Self.sortedKeys(map) {
            if !first { text.append(",") }
            first = false
            key(name)
            string(map[name] ?? "")
        }
        text.append("}")
    }

    /// `{name: [values]}` from fields in arrival order, grouped by name.
    mutating func grouped(_ fields: [(name: String, value: String)]) {
        let order = fields.indices.sorted { a, b in
            let left = fields[a].name, right = fields[b].name
            return left == right ? a < b : ByteOrder.precedes(left, right)
        }
        text.append("{")
        var position = 0
        while position < order.count {
            let name = fields[order[position]].name
            if position > 0 { text.append(",") }
            key(name)
            text.append("[")
            var first = true
            while position < order.count, fields[order[position]].name == name {
                if !first { text.append(",") }
                first = false
                string(fields[order[position]].value)
                position += 1
            }
            text.append("]")
        }
        text.append("}")
    }

    mutating func stringList(_ list: [String]) {
        text.append("[")
        for (offset, value) in list.enumerated() {
            if offset > 0 { text.append(",") }
            string(value)
        }
        text.append("]")
    }

    mutating func listMap(_ map: [String: [String]]) {
        text.append("{")
        var first = true
        for name in Self.sortedKeys(map) {
            if !first { text.append(",") }
            first = false
            key(name)
            stringList(map[name] ?? [])
        }
        text.append("}")
    }
}

extension MiniRequest {
    /// The request object as Tyk passes it to a handler.
    func jsonText() -> String {
        jsonText { $0.listMap(headers) }
    }

    /// ``jsonText()`` with `Headers` written from the fields as they
    /// arrived: grouped by name, names in byte order, values in arrival
    /// order. The same text as a request whose `headers` map holds those
    /// groups, without building the map (the gateway's hooks use this).
    public func jsonText(headerFields: [(name: String, value: String)]) -> String {
        jsonText { $0.grouped(headerFields) }
    }

    private func jsonText(headers writeHeaders: (inout JSONWriter) -> Void) -> String {
        var w = JSONWriter()
        w.raw("{"); w.raw("\"Headers\":"); writeHeaders(&w)
        w.raw(","); w.raw("\"SetHeaders\":"); w.stringMap(setHeaders)
        w.raw(","); w.raw("\"DeleteHeaders\":"); w.stringList(deleteHeaders)
        w.raw(","); w.raw("\"Body\":"); w.string(body)
        w.raw(","); w.raw("\"URL\":"); w.string(url)
        w.raw(","); w.raw("\"Params\":"); w.listMap(params)
        w.raw(","); w.raw("\"AddParams\":"); w.stringMap(addParams)
        w.raw(","); w.raw("\"ExtendedParams\":"); w.listMap(extendedParams)
        w.raw(","); w.raw("\"DeleteParams\":"); w.stringList(deleteParams)
        w.raw(","); w.raw("\"ReturnOverrides\":"); w.raw("{")
        w.raw("\"ResponseCode\":"); w.raw(String(returnOverrides.responseCode))
        w.raw(","); w.raw("\"ResponseError\":"); w.string(returnOverrides.responseError)
        w.raw(","); w.raw("\"ResponseBody\":"); w.string(returnOverrides.responseBody)
        w.raw(","); w.raw("\"ResponseHeaders\":"); w.stringMap(returnOverrides.responseHeaders)
        w.raw(","); w.raw("\"OverrideError\":"); w.raw(returnOverrides.overrideError ? "true" : "false")
        w.raw("}")
        w.raw(","); w.raw("\"IgnoreBody\":"); w.raw(ignoreBody ? "true" : "false")
        w.raw(","); w.raw("\"Method\":"); w.string(method)
        w.raw(","); w.raw("\"RequestURI\":"); w.string(requestURI)
        w.raw(","); w.raw("\"Scheme\":"); w.string(scheme)
        w.raw(","); w.raw("\"RemoteAddr\":"); w.string(attributes.remoteAddress)
        w.raw(","); w.raw("\"Host\":"); w.string(attributes.host)
        w.raw(","); w.raw("\"APIID\":"); w.string(attributes.apiID)
        w.raw(","); w.raw("\"APIName\":"); w.string(attributes.apiName)
        w.raw(","); w.raw("\"ListenPath\":"); w.string(attributes.listenPath)
        w.raw("}")
        return w.text
    }
}

extension PluginSpec {
    static func render(_ apiID: String, _ orgID: String, _ configData: JSONValue?) -> String {
        var w = JSONWriter(capacity: 128)
        w.raw("{"); w.key("APIID"); w.string(apiID)
        w.raw(","); w.key("OrgID"); w.string(orgID)
        if let configData {
            w.raw(","); w.key("config_data"); w.raw(configData.jsonString())
        }
        w.raw("}")
        return w.text
    }
}

extension VirtualEndpointRequest {
    /// The request object a virtual endpoint function receives.
    func jsonText() -> String {
        var w = JSONWriter()
        w.raw("{\"Headers\":"); w.listMap(headers)
        w.raw(",\"Body\":"); w.string(body)
        w.raw(",\"URL\":"); w.string(url)
        w.raw(",\"Params\":"); w.listMap(params)
        w.raw(",\"Scheme\":"); w.string(scheme)
        w.raw(",\"RemoteAddr\":"); w.string(attributes.remoteAddress)
        w.raw(",\"Host\":"); w.string(attributes.host)
        w.raw(",\"APIID\":"); w.string(attributes.apiID)
        w.raw(",\"APIName\":"); w.string(attributes.apiName)
        w.raw(",\"ListenPath\":"); w.string(attributes.listenPath)
        w.raw("}")
        return w.text
    }
}

extension MiniResponse {
    /// The response object a response hook receives.
    func jsonText() -> String {
        var w = JSONWriter()
        w.raw("{\"StatusCode\":"); w.raw(String(statusCode))
        w.raw(",\"Body\":"); w.string(body)
        w.raw(",\"Headers\":"); w.listMap(headers)
        w.raw(",\"SetHeaders\":"); w.stringMap(setHeaders)
        w.raw(",\"DeleteHeaders\":"); w.stringList(deleteHeaders)
        w.raw("}")
        return w.text
    }
}
