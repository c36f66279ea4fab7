import Foundation

/// The JSON contracts of `TykMakeHttpRequest` and `TykBatchRequest`: what a
/// plugin passes in and the exact shape it gets back.
enum TykHTTPContract {
    /// Why a plugin's HTTP request description was refused.
    struct InvalidRequest: Error, CustomStringConvertible {
        var description: String
    }

    /// Parses `{Method, Domain, Resource, Headers, Body, FormData, Timeout}`.
    /// `Timeout` (seconds) is a Portcullis extension; Tyk has no timeout.
    static func parseRequest(_ json: String, defaultTimeout: Double) throws -> PluginHTTPRequest {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw InvalidRequest(description: "the argument is not a JSON object; pass JSON.stringify({Method, Domain, Resource, Headers, Body})")
        }
        let domain = field(object, "Domain") as? String ?? ""
        let resource = field(object, "Resource") as? String ?? ""
        let url = domain + resource
        guard let components = URLComponents(string: url), let scheme = components.scheme,
              ["http", "https"].contains(scheme.lowercased()), components.host?.isEmpty == false else {
            throw InvalidRequest(description: "Domain + Resource is not an absolute http(s) URL: '\(url)'")
        }
        let headers = try stringMap(field(object, "Headers"), field: "Headers")
        var body = Array((field(object, "Body") as? String ?? "").utf8)
        if body.isEmpty {
            let form = try stringMap(field(object, "FormData"), field: "FormData")
            if !form.isEmpty { body = Array(formEncode(form).utf8) }
        }
        let method = (field(object, "Method") as? String).flatMap { $0.isEmpty ? nil : $0.uppercased() } ?? "GET"
        var timeout = defaultTimeout
        if let given = field(object, "Timeout") as? Double, given > 0 { timeout = given }
        return PluginHTTPRequest(method: method, url: url, headers: headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                                 body: body, timeoutSeconds: timeout)
    }

    /// Tyk's reply shape, with both capitalised and lower-case keys.
    static func encodeResponse(_ response: PluginHTTPResponse) -> String {
        let body = ByteText.decode(response.body).text
        let reply: [String: Any] = [
            "Code": response.status, "Body": body, "Headers": response.headers,
            "code": response.status, "body": body, "headers": response.headers,
        ]
        return jsonText(reply)
    }

    /// What `fetch()` resolves with before the prelude adds `ok`, `text()`
    /// and `json()`: `{status, headers, body}`, one value per header name.
    static func encodeFetchResponse(_ response: PluginHTTPResponse) -> String {
        let headers = response.headers.mapValues { $0.joined(separator: ", ") }
        return jsonText(["status": response.status, "headers": headers, "body": ByteText.decode(response.body).text])
    }

    /// One request of a batch.
    struct BatchItem: Sendable {
        var request: PluginHTTPRequest
        var relativeURL: String
    }

    /// Parses `{"requests":[{method, headers, body, relative_url}], "suppress_parallel_execution"}`.
    static func parseBatch(_ json: String, defaultTimeout: Double) throws -> (items: [BatchItem], sequential: Bool) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let requests = field(object, "requests") as? [Any] else {
            throw InvalidRequest(description: "the argument must be JSON with a \"requests\" array")
        }
        var items: [BatchItem] = []
        for (index, item) in requests.enumerated() {
            guard let entry = item as? [String: Any] else {
                throw InvalidRequest(description: "requests[\(index)] must be an object")
            }
            let relative = field(entry, "relative_url") as? String ?? ""
            let headers = try stringMap(field(entry, "headers"), field: "requests[\(index)].headers")
            let method = (field(entry, "method") as? String).flatMap { $0.isEmpty ? nil : $0.uppercased() } ?? "GET"
            let request = PluginHTTPRequest(method: method, url: relative,
                                            headers: headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                                            body: Array((field(entry, "body") as? String ?? "").utf8), timeoutSeconds: defaultTimeout)
            items.append(BatchItem(request: request, relativeURL: relative))
        }
        return (items, field(object, "suppress_parallel_execution") as? Bool ?? false)
    }

    /// One reply of a batch; nil response means the request failed (Tyk's all-zero unit).
    static func encodeBatch(_ replies: [(relativeURL: String, response: PluginHTTPResponse?)]) -> String {
        let units: [[String: Any]] = replies.map { reply in
            guard let response = reply.response else {
                return ["relative_url": "", "code": 0, "headers": [String: [String]](), "body": ""]
            }
            return ["relative_url": reply.relativeURL, "code": response.status, "headers": response.headers,
                    "body": ByteText.decode(response.body).text]
        }
        return jsonText(units)
    }

    /// A field of a decoded object as Go's encoding/json finds it for a
    /// struct field: the exact name, else any spelling that differs only in
    /// letter case (`resource`, `METHOD`), which Tyk therefore accepts.
    private static func field(_ object: [String: Any], _ name: String) -> Any? {
        if let exact = object[name] { return exact }
        let folded = name.lowercased()
        return object.first { $0.key.lowercased() == folded }?.value
    }

    private static func stringMap(_ value: Any?, field: String) throws -> [String: String] {
        guard let value, !(value is NSNull) else { return [:] }
        guard let map = value as? [String: Any] else {
            throw InvalidRequest(description: "\(field) must be an object of strings")
        }
        var result: [String: String] = [:]
        for (key, item) in map {
            guard let text = item as? String else {
                throw InvalidRequest(description: "\(field).\(key) must be a string")
            }
            result[key] = text
        }
        return result
    }

    private static func formEncode(_ form: [String: String]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        func escape(_ text: String) -> String {
            (text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text).replacingOccurrences(of: "%20", with: "+")
        }
        return form.sorted { $0.key < $1.key }.map { "\(escape($0.key))=\(escape($0.value))" }.joined(separator: "&")
    }

    private static func jsonText(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }
}
