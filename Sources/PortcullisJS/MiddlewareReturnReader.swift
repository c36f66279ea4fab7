import CJavaScriptCore
import PortcullisCore

/// Reads what a request handler returned straight from the JavaScript
/// object, through the JavaScriptCore C API, instead of `JSON.stringify`
/// in JS and a JSON parse in Swift.
///
/// The result has to be exactly what Tyk would get from the same object
/// by way of JSON, so the reader only takes the values whose JSON form is
/// obvious: strings, finite whole numbers, booleans, plain objects and
/// arrays of those, with `null`, `undefined`, functions and symbols where
/// JSON drops or nulls them. Anything else — a `Date`, a `String` object, a
/// `toJSON` method, a number with a fraction, a wrongly typed field — makes
/// it give up, and the caller takes the JSON route, which decides (and
/// words the error) as before.
struct MiddlewareReturnReader {
    /// The property names the reader looks up, made once per realm.
    final class Names {
        let request, sessionMeta, session, authValue, toJSON, length: JSStringRef
        let headers, setHeaders, deleteHeaders, body, url, params, addParams, extendedParams, deleteParams: JSStringRef
        let returnOverrides, responseCode, responseError, responseBody, responseHeaders, overrideError: JSStringRef
        let ignoreBody, method, requestURI, scheme: JSStringRef
        private let all: [JSStringRef]

        init() {
            func name(_ text: String) -> JSStringRef { JSBridge.makeJSString(text) }
            request = name("Request"); sessionMeta = name("SessionMeta"); session = name("Session")
            authValue = name("AuthValue"); toJSON = name("toJSON"); length = name("length")
            headers = name("Headers"); setHeaders = name("SetHeaders"); deleteHeaders = name("DeleteHeaders")
            body = name("Body"); url = name("URL"); params = name("Params"); addParams = name("AddParams")
            extendedParams = name("ExtendedParams"); deleteParams = name("DeleteParams")
            returnOverrides = name("ReturnOverrides"); responseCode = name("ResponseCode")
            responseError = name("ResponseError"); responseBody = name("ResponseBody")
            responseHeaders = name("ResponseHeaders"); overrideError = name("OverrideError")
            ignoreBody = name("IgnoreBody"); method = name("Method"); requestURI = name("RequestURI"); scheme = name("Scheme")
            all = [request, sessionMeta, session, authValue, toJSON, length, headers, setHeaders, deleteHeaders, body, url,
                   params, addParams, extendedParams, deleteParams, returnOverrides, responseCode, responseError,
                   responseBody, responseHeaders, overrideError, ignoreBody, method, requestURI, scheme]
        }

        deinit {
            for name in all { JSStringRelease(name) }
        }
    }

    /// The value has no JSON form the reader can be sure of.
    private struct GiveUp: Error {}

    let context: JSContextRef
    let names: Names

    /// The handler's result, or nil when the JSON route has to decide.
    func read(_ value: JSValueRef) -> MiddlewareReturn? {
        do {
            let root = try plainObject(value)
            var result = MiddlewareReturn()
            if let request = try present(root, names.request) {
                result.request = try miniRequest(try plainObject(request))
            }
            if let meta = try present(root, names.sessionMeta) {
                result.sessionMeta = try stringMap(meta)
            }
            if try present(root, names.session) != nil { throw GiveUp() }
            if let authValue = try present(root, names.authValue) {
                result.authValue = try string(authValue)
            }
            return result
        } catch {
            return nil
        }
    }

    private func miniRequest(_ o: JSObjectRef) throws -> MiniRequest {
        var overrides = ReturnOverrides()
        if let value = try present(o, names.returnOverrides) {
            let r = try plainObject(value)
            overrides = ReturnOverrides(
                responseCode: try present(r, names.responseCode).map(integer) ?? 0,
                responseError: try present(r, names.responseError).map(string) ?? "",
                responseBody: try present(r, names.responseBody).map(string) ?? "",
                responseHeaders: try present(r, names.responseHeaders).map(stringMap) ?? [:],
                overrideError: try present(r, names.overrideError).map(boolean) ?? false)
        }
        return MiniRequest(
            headers: try present(o, names.headers).map(listMap) ?? [:],
            setHeaders: try present(o, names.setHeaders).map(stringMap) ?? [:],
            deleteHeaders: try present(o, names.deleteHeaders).map(stringList) ?? [],
            body: try present(o, names.body).map(string) ?? "",
            url: try present(o, names.url).map(string) ?? "",
            params: try present(o, names.params).map(listMap) ?? [:],
            addParams: try present(o, names.addParams).map(stringMap) ?? [:],
            extendedParams: try present(o, names.extendedParams).map(listMap) ?? [:],
            deleteParams: try present(o, names.deleteParams).map(stringList) ?? [],
            returnOverrides: overrides,
            ignoreBody: try present(o, names.ignoreBody).map(boolean) ?? false,
            method: try present(o, names.method).map(string) ?? "",
            requestURI: try present(o, names.requestURI).map(string) ?? "",
            scheme: try present(o, names.scheme).map(string) ?? "")
    }

    /// A field's value, or nil where JSON would have no value or `null`:
    /// missing, `undefined`, `null`, a function or a symbol.
    private func present(_ object: JSObjectRef, _ name: JSStringRef) throws -> JSValueRef? {
        var exception: JSValueRef?
        let value = JSObjectGetProperty(context, object, name, &exception)
        guard exception == nil else { throw GiveUp() }
        return dropped(value) ? nil : value
    }

    private func dropped(_ value: JSValueRef?) -> Bool {
        guard let value else { return true }
        switch JSValueGetType(context, value) {
        case kJSTypeUndefined, kJSTypeNull, kJSTypeSymbol:
            return true
        case kJSTypeObject:
            return JSObjectIsFunction(context, JSValueToObject(context, value, nil))
        default:
            return false
        }
    }

    /// An object that JSON writes as `{…}` field by field.
    private func plainObject(_ value: JSValueRef) throws -> JSObjectRef {
        guard JSValueIsObject(context, value), !JSValueIsArray(context, value),
              let object = JSValueToObject(context, value, nil),
              !JSObjectIsFunction(context, object), !JSObjectHasProperty(context, object, names.toJSON) else { throw GiveUp() }
        return object
    }

    private func string(_ value: JSValueRef) throws -> String {
        guard JSValueIsString(context, value), let text = JSBridge.toString(context, value) else { throw GiveUp() }
        return text
    }

    private func integer(_ value: JSValueRef) throws -> Int {
        guard JSValueIsNumber(context, value) else { throw GiveUp() }
        let number = JSValueToNumber(context, value, nil)
        guard number.isFinite else { return 0 }
        guard number.rounded() == number, let exact = Int(exactly: number) else { throw GiveUp() }
        return exact
    }

    private func boolean(_ value: JSValueRef) throws -> Bool {
        guard JSValueIsBoolean(context, value) else { throw GiveUp() }
        return JSValueToBoolean(context, value)
    }

    /// Each enumerable own field of a plain object that JSON would keep.
    private func fields(_ value: JSValueRef, _ each: (String, JSValueRef) throws -> Void) throws {
        let object = try plainObject(value)
        let propertyNames = JSObjectCopyPropertyNames(context, object)
        defer { JSPropertyNameArrayRelease(propertyNames) }
        let count = JSPropertyNameArrayGetCount(propertyNames)
        for index in 0..<count {
            guard let name = JSPropertyNameArrayGetNameAtIndex(propertyNames, index) else { continue }
            if let item = try present(object, name) {
                try each(JSBridge.swiftString(name), item)
            }
        }
    }

    private func stringMap(_ value: JSValueRef) throws -> [String: String] {
        var result: [String: String] = [:]
        try fields(value) { name, item in result[name] = try string(item) }
        return result
    }

    private func listMap(_ value: JSValueRef) throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        try fields(value) { name, item in result[name] = try stringList(item) }
        return result
    }

    private func stringList(_ value: JSValueRef) throws -> [String] {
        guard JSValueIsArray(context, value), let array = JSValueToObject(context, value, nil),
              !JSObjectHasProperty(context, array, names.toJSON) else { throw GiveUp() }
        var exception: JSValueRef?
        let length = JSValueToNumber(context, JSObjectGetProperty(context, array, names.length, &exception), nil)
        guard exception == nil, length.isFinite, length >= 0, length < 1_000_000 else { throw GiveUp() }
        var result: [String] = []
        result.reserveCapacity(Int(length))
        for index in 0..<UInt32(length) {
            let item = JSObjectGetPropertyAtIndex(context, array, UInt32(index), &exception)
            guard exception == nil, let item else { throw GiveUp() }
            result.append(try string(item))
        }
        return result
    }
}
