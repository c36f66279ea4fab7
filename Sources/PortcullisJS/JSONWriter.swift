import PortcullisCore

/// Writes the fixed-shape objects handed to plugins as JSON text directly,
/// several times cheaper than `JSONEncoder` on the per-request path.
struct JSONWriter: ~Copyable {
    private var out: JSONOutput

    init(capacity: Int = 512) {
        out = JSONOutput(capacity: capacity)
    }

    /// The text written.
    consuming func text() -> String { out.text() }

    @inline(__always)
    mutating func string(_ value: String) {
        out.string(value)
    }

    /// Text that is already JSON (a number, a rendered value).
    @inline(__always)
    mutating func raw(_ fragment: String) {
        out.raw(fragment)
    }

    /// A whole number.
    @inline(__always)
    mutating func integer(_ value: Int) {
        out.integer(Int64(value))
    }

    /// A fixed piece of JSON written by this file.
    @inline(__always)
    mutating func literal(_ fragment: StaticString) {
        out.literal(fragment)
    }

    mutating func key(_ name: String) {
        string(name)
        out.byte(UInt8(ascii: ":"))
    }

    mutating func stringMap(_ map: [String: String]) {
        out.object(map) { $0.string($1) }
    }

    /// `{name: [values]}` from fields in arrival order, grouped by name.
    mutating func grouped(_ fields: [(name: String, value: String)]) {
        let order = fields.indices.sorted { a, b in
            let left = fields[a].name, right = fields[b].name
            return left == right ? a < b : ByteOrder.precedes(left, right)
        }
        out.byte(UInt8(ascii: "{"))
        var position = 0
        while position < order.count {
            let name = fields[order[position]].name
            if position > 0 { out.byte(UInt8(ascii: ",")) }
            key(name)
            out.byte(UInt8(ascii: "["))
            var first = true
            while position < order.count, fields[order[position]].name == name {
                if !first { out.byte(UInt8(ascii: ",")) }
                first = false
                string(fields[order[position]].value)
                position += 1
            }
            out.byte(UInt8(ascii: "]"))
        }
        out.byte(UInt8(ascii: "}"))
    }

    /// The request attributes both request objects end with, then the
    /// object's closing brace.
    mutating func attributesAndEnd(_ attributes: RequestAttributes) {
        literal(",\"RemoteAddr\":"); string(attributes.remoteAddress)
        literal(",\"Host\":"); string(attributes.host)
        literal(",\"APIID\":"); string(attributes.apiID)
        literal(",\"APIName\":"); string(attributes.apiName)
        literal(",\"ListenPath\":"); string(attributes.listenPath)
        literal("}")
    }

    mutating func stringList(_ list: [String]) {
        out.strings(list)
    }

    mutating func listMap(_ map: [String: [String]]) {
        out.object(map) { $0.strings($1) }
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
        let headerBytes = headerFields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 8 }
        return jsonText(headerBytes: headerBytes) { $0.grouped(headerFields) }
    }

    private func jsonText(headerBytes: Int = 256, headers writeHeaders: (inout JSONWriter) -> Void) -> String {
        // Sized for the whole text at once: the fixed fields and attributes
        // take about 450 bytes, and growing the buffer midway copies it.
        var w = JSONWriter(capacity: 640 + headerBytes + body.utf8.count + 2 * url.utf8.count + requestURI.utf8.count)
        w.literal("{\"Headers\":"); writeHeaders(&w)
        // A hook's input leaves the fields it may fill empty; those runs of
        // fields are then one fixed piece of text each.
        if setHeaders.isEmpty && deleteHeaders.isEmpty {
            w.literal(",\"SetHeaders\":{},\"DeleteHeaders\":[],\"Body\":")
        } else {
            w.literal(",\"SetHeaders\":"); w.stringMap(setHeaders)
            w.literal(",\"DeleteHeaders\":"); w.stringList(deleteHeaders)
            w.literal(",\"Body\":")
        }
        w.string(body)
        w.literal(",\"URL\":"); w.string(url)
        w.literal(",\"Params\":"); w.listMap(params)
        if addParams.isEmpty && extendedParams.isEmpty && deleteParams.isEmpty && returnOverrides == ReturnOverrides() && !ignoreBody {
            w.literal(#","AddParams":{},"ExtendedParams":{},"DeleteParams":[],"ReturnOverrides":{"ResponseCode":0,"ResponseError":"","ResponseBody":"","ResponseHeaders":{},"OverrideError":false},"IgnoreBody":false,"Method":"#)
        } else {
            w.literal(",\"AddParams\":"); w.stringMap(addParams)
            w.literal(",\"ExtendedParams\":"); w.listMap(extendedParams)
            w.literal(",\"DeleteParams\":"); w.stringList(deleteParams)
            w.literal(",\"ReturnOverrides\":{\"ResponseCode\":"); w.integer(returnOverrides.responseCode)
            w.literal(",\"ResponseError\":"); w.string(returnOverrides.responseError)
            w.literal(",\"ResponseBody\":"); w.string(returnOverrides.responseBody)
            w.literal(",\"ResponseHeaders\":"); w.stringMap(returnOverrides.responseHeaders)
            w.literal(returnOverrides.overrideError ? ",\"OverrideError\":true}" : ",\"OverrideError\":false}")
            w.literal(ignoreBody ? ",\"IgnoreBody\":true,\"Method\":" : ",\"IgnoreBody\":false,\"Method\":")
        }
        w.string(method)
        w.literal(",\"RequestURI\":"); w.string(requestURI)
        w.literal(",\"Scheme\":"); w.string(scheme)
        w.attributesAndEnd(attributes)
        return w.text()
    }
}

extension PluginSpec {
    static func render(_ apiID: String, _ orgID: String, _ configData: JSONValue?) -> String {
        var w = JSONWriter(capacity: 128)
        w.literal("{"); w.key("APIID"); w.string(apiID)
        w.literal(","); w.key("OrgID"); w.string(orgID)
        if let configData {
            w.literal(","); w.key("config_data"); w.raw(configData.jsonString())
        }
        w.literal("}")
        return w.text()
    }
}

extension VirtualEndpointRequest {
    /// The request object a virtual endpoint function receives.
    func jsonText() -> String {
        var w = JSONWriter()
        w.literal("{\"Headers\":"); w.listMap(headers)
        w.literal(",\"Body\":"); w.string(body)
        w.literal(",\"URL\":"); w.string(url)
        w.literal(",\"Params\":"); w.listMap(params)
        w.literal(",\"Scheme\":"); w.string(scheme)
        w.attributesAndEnd(attributes)
        return w.text()
    }
}

extension MiniResponse {
    /// The response object a response hook receives.
    func jsonText() -> String {
        var w = JSONWriter()
        w.literal("{\"StatusCode\":"); w.integer(statusCode)
        w.literal(",\"Body\":"); w.string(body)
        w.literal(",\"Headers\":"); w.listMap(headers)
        w.literal(",\"SetHeaders\":"); w.stringMap(setHeaders)
        w.literal(",\"DeleteHeaders\":"); w.stringList(deleteHeaders)
        w.literal("}")
        return w.text()
    }
}
