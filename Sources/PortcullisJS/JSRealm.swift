import CJavaScriptCore
import Foundation
import PortcullisCore

/// One API's plugins loaded into one context on one worker thread: the
/// prelude, then the API's files, evaluated once, so top-level code runs at
/// load as it does under Tyk's otto driver. Contexts of different APIs are
/// separate, so two APIs may both define `var handler` without clashing.
final class JSRealm {
    let name: String
    let context: JSGlobalContextRef
    let timeout: TimeoutFlag
    let scope: CallScope
    private var handlers: [String: JSObjectRef] = [:]
    /// Method names looked up on handlers (`DoProcessRequest`), made once.
    private var methodNames: [String: JSStringRef] = [:]
    /// The spec object of the last middleware call and the text it was
    /// parsed from.
    private var spec: (text: String, value: JSValueRef)?
    /// Each loaded file's text by path, so errors can quote the failing line.
    private var sources: [String: String] = [:]
    /// The prelude's entry point for request middleware: it calls the
    /// handler's `DoProcessRequest` and, when that is the prelude's, leaves
    /// the result an object (or a number) to read without a JSON round trip.
    private var preludeProcess: JSObjectRef?
    /// Names the result reader looks up, made once.
    private let returnNames = MiddlewareReturnReader.Names()
    /// The global names the plugin files defined (see JSRealm+Globals).
    var loadedGlobals: Set<String>?
    /// Globals already warned about.
    var warnedGlobals: Set<String> = []

    init(name: String, group: JSContextGroupRef, scope: CallScope, clock: any GatewayClock, timeout: TimeoutFlag) throws {
        guard let context = JSGlobalContextCreateInGroup(group, nil) else {
            throw PluginError.loadFailed(SourceLocation(file: TykPrelude.path, line: nil), message: "could not create a JavaScript context")
        }
        self.name = name
        self.context = context
        self.timeout = timeout
        self.scope = scope
        TykBindings.install(context, scope: scope, clock: clock)
        try load(PluginScript(path: TykPrelude.path, source: TykPrelude.source))
        capturePreludeEntryPoints()
        hideGatewayGlobals()
    }

    deinit {
        for handler in handlers.values { JSValueUnprotect(context, handler) }
        for name in methodNames.values { JSStringRelease(name) }
        if let spec { JSValueUnprotect(context, spec.value) }
        if let preludeProcess { JSValueUnprotect(context, preludeProcess) }
        JSGlobalContextRelease(context)
    }

    private func capturePreludeEntryPoints() {
        let global = JSContextGetGlobalObject(context)
        let hidden = JSBridge.makeJSString("__portcullisProcessRequest")
        defer {
            JSObjectDeleteProperty(context, global, hidden, nil)
            JSStringRelease(hidden)
        }
        guard let process = JSObjectGetProperty(context, global, hidden, nil), JSValueIsObject(context, process),
              let function = JSValueToObject(context, process, nil), JSObjectIsFunction(context, function) else { return }
        JSValueProtect(context, function)
        preludeProcess = function
    }

    /// Checks the syntax of a file, then runs its top level.
    func load(_ script: PluginScript) throws {
        let source = JSBridge.makeJSString(script.source)
        let url = JSBridge.makeJSString(script.path)
        defer {
            JSStringRelease(source)
            JSStringRelease(url)
        }
        sources[script.path] = script.source
        var exception: JSValueRef?
        if !JSCheckScriptSyntax(context, source, url, 1, &exception) {
            let details = describe(exception)
            let column = details.column ?? details.line.flatMap { syntaxErrorColumn(in: script, line: $0, message: details.message) }
            throw PluginError.syntaxError(location(script.path, details.line, column), message: details.message)
        }
        timeout.reset()
        exception = nil
        _ = JSEvaluateScript(context, source, nil, url, 1, &exception)
        if exception != nil {
            let details = describe(exception)
            let message = timeout.fired ? "top-level code ran past the execution time limit" : details.message
            throw PluginError.loadFailed(location(details.file ?? script.path, details.line, details.column), message: message)
        }
    }

    /// Calls `method` on the global object `handlerName` (or, with a nil
    /// method, calls the global function itself) with JSON arguments, and
    /// returns the string it produced.
    func call(handlerName: String, method: String?, jsonArguments: [String], limitSeconds: Double) throws -> String {
        try invoke(handlerName: handlerName, method: method, jsonArguments: jsonArguments, limitSeconds: limitSeconds,
                   objectResult: false) { result, _ in
            guard let result, JSValueIsString(context, result), let text = JSBridge.toString(context, result) else {
                let shown = JSBridge.toString(context, result) ?? "undefined"
                throw PluginError.invalidReturn(handler: handlerName, reason: "expected a JSON string, got \(shown.prefix(80))")
            }
            return text
        }
    }

    /// Calls `handlerName.DoProcessRequest(request, session, spec)` and reads
    /// its result. When the handler keeps the prelude's `DoProcessRequest`,
    /// the result is read from the object itself (``MiddlewareReturnReader``);
    /// otherwise, or when the object needs JSON's own rules, from its JSON.
    ///
    /// `given` is the request as passed in: the prelude answers a number
    /// when the handler changed nothing that is read back, and the result is
    /// then `given` with its headers reset, as Tyk resets them.
    func callMiddleware(handlerName: String, jsonArguments: [String], limitSeconds: Double,
                        given: MiniRequest) throws -> MiddlewareReturn {
        try invoke(handlerName: handlerName, method: "DoProcessRequest", jsonArguments: jsonArguments,
                   limitSeconds: limitSeconds, objectResult: true) { result, viaPrelude in
            guard let result else {
                throw PluginError.invalidReturn(handler: handlerName, reason: "expected a JSON string, got undefined")
            }
            if viaPrelude, JSValueIsNumber(context, result) {
                var same = given
                // Request hooks are given no header map: the request object
                // then keeps sharing its fields with `given` (copy on write).
                if !same.headers.isEmpty { same.headers = [:] }
                let code = JSValueToNumber(context, result, nil)
                return MiddlewareReturn(request: same, sessionMeta: code == 0 ? [:] : nil, session: nil, authValue: nil)
            }
            if JSValueIsString(context, result), let text = JSBridge.toString(context, result) {
                return try MiddlewareReturnParser.parse(text, handler: handlerName)
            }
            if JSValueIsObject(context, result) {
                if let read = MiddlewareReturnReader(context: context, names: returnNames).read(result) { return read }
                var exception: JSValueRef?
                if let json = JSValueCreateJSONString(context, result, 0, &exception), exception == nil {
                    defer { JSStringRelease(json) }
                    return try MiddlewareReturnParser.parse(JSBridge.swiftString(json), handler: handlerName)
                }
                let details = describe(exception)
                throw PluginError.exception(handler: handlerName, location: nil, message: "the result could not be written as JSON: \(details.message)")
            }
            let shown = JSBridge.toString(context, result) ?? "undefined"
            throw PluginError.invalidReturn(handler: handlerName, reason: "expected a JSON string, got \(shown.prefix(80))")
        }
    }

    /// Calls the handler and hands its (settled) result to `read` while the
    /// result is still protected from the collector.
    private func invoke<T>(handlerName: String, method: String?, jsonArguments: [String], limitSeconds: Double,
                           objectResult: Bool, read: (JSValueRef?, _ viaPrelude: Bool) throws -> T) throws -> T {
        let target = try resolve(handlerName)
        var function = target
        var this: JSObjectRef? = nil
        var viaPrelude = false
        if method == "DoProcessRequest", objectResult, let preludeProcess {
            // The prelude's entry point looks the method up itself and says
            // when it is not the prelude's (`CallScope.ownMethod`).
            function = preludeProcess
            viaPrelude = true
            this = target
        } else if let method {
            guard let value = JSObjectGetProperty(context, target, methodName(method), nil), JSValueIsObject(context, value),
                  let object = JSValueToObject(context, value, nil), JSObjectIsFunction(context, object) else {
                throw Self.missingMethod(method, handlerName)
            }
            function = object
            this = target
        } else if !JSObjectIsFunction(context, target) {
            throw PluginError.handlerNotFound(handler: handlerName, realm: name)
        }
        // The arguments live in a buffer on this thread's stack, which the
        // collector scans, so they need no protecting during the call.
        return try withUnsafeTemporaryAllocation(of: JSValueRef?.self, capacity: jsonArguments.count) { arguments in
            for (index, json) in jsonArguments.enumerated() {
                // The empty session of every pre hook needs no parser, and
                // the prelude's entry point copies the spec object (the
                // third argument) itself, so that one is parsed once.
                let value: JSValueRef?
                if json == "{}" {
                    value = JSObjectMake(context, nil, nil)
                } else if viaPrelude, index == 2 {
                    value = specObject(json)
                } else {
                    value = JSBridge.parseJSON(context, json)
                }
                guard let value else {
                    throw PluginError.invalidReturn(handler: handlerName, reason: "internal error: argument \(index + 1) is not JSON")
                }
                arguments.initializeElement(at: index, to: value)
            }
            return try call(function, this: this, arguments: UnsafeMutableBufferPointer(rebasing: arguments[..<jsonArguments.count]),
                            handlerName: handlerName, limitSeconds: limitSeconds, viaPrelude: viaPrelude, read: read)
        }
    }

    /// Calls `function` with arguments already made, settles a promise it
    /// returns and hands the result to `read`.
    private func call<T>(_ function: JSObjectRef, this: JSObjectRef?, arguments: UnsafeMutableBufferPointer<JSValueRef?>,
                         handlerName: String, limitSeconds: Double, viaPrelude: Bool,
                         read: (JSValueRef?, _ viaPrelude: Bool) throws -> T) throws -> T {
        rememberLoadedGlobals()
        // The prelude's entry point counts the globals itself after a call
        // that returned at once without throwing; every other call has its
        // globals listed here.
        var globalsCounted = false
        defer { if !globalsCounted { dropCallGlobals(handlerName: handlerName) } }
        scope.globalsMoved = false
        scope.ownMethod = nil
        timeout.reset()
        var exception: JSValueRef?
        var result = JSObjectCallAsFunction(context, function, this, arguments.count, arguments.baseAddress, &exception)
        var viaPrelude = viaPrelude
        if viaPrelude, let own = scope.ownMethod {
            guard own else {
                throw Self.missingMethod("DoProcessRequest", handlerName)
            }
            viaPrelude = false
        }
        if exception == nil, let returned = result, isThenable(returned) {
            result = try settle(returned, handlerName: handlerName, limitSeconds: limitSeconds, exception: &exception)
        } else if viaPrelude, exception == nil, !scope.globalsMoved {
            globalsCounted = true
        }
        if exception != nil {
            if timeout.fired {
                scope.activity.callTimedOut()
                throw PluginError.timedOut(handler: handlerName, limitSeconds: limitSeconds)
            }
            let details = describe(exception)
            if details.name == "PluginReturnError" {
                throw PluginError.invalidReturn(handler: handlerName, reason: details.message)
            }
            let thrownAt = details.file.map { location($0, details.line, details.column) }
            throw PluginError.exception(handler: handlerName, location: thrownAt, message: details.message)
        }
        if let result { JSValueProtect(context, result) }
        defer { if let result { JSValueUnprotect(context, result) } }
        return try read(result, viaPrelude)
    }

    /// Evaluates an expression and returns it as JSON (for tools and tests).
    func evaluateJSON(_ source: String) throws -> String {
        let script = JSBridge.makeJSString(source)
        let url = JSBridge.makeJSString("portcullis:evaluate")
        defer {
            JSStringRelease(script)
            JSStringRelease(url)
        }
        timeout.reset()
        var exception: JSValueRef?
        let value = JSEvaluateScript(context, script, nil, url, 1, &exception)
        if exception != nil {
            let details = describe(exception)
            throw PluginError.exception(handler: "evaluate", location: details.file.map { SourceLocation(file: $0, line: details.line) },
                                        message: timeout.fired ? "execution time limit exceeded" : details.message)
        }
        guard let value, !JSValueIsUndefined(context, value),
              let json = JSValueCreateJSONString(context, value, 0, nil) else { return "undefined" }
        defer { JSStringRelease(json) }
        return JSBridge.swiftString(json)
    }

    /// A handler without the method the call needs, whether the engine or
    /// the prelude's entry point found it missing.
    private static func missingMethod(_ method: String, _ handlerName: String) -> PluginError {
        .invalidReturn(handler: handlerName, reason: "'\(handlerName)' has no \(method) method; create it with new TykJS.TykMiddleware.NewMiddleware({})")
    }

    /// The spec object parsed from `json`, kept for the next call with the
    /// same text (the prelude's entry point hands each call a copy).
    private func specObject(_ json: String) -> JSValueRef? {
        if let kept = spec, kept.text == json { return kept.value }
        guard let parsed = JSBridge.parseJSON(context, json) else { return nil }
        JSValueProtect(context, parsed)
        if let kept = spec { JSValueUnprotect(context, kept.value) }
        spec = (json, parsed)
        return parsed
    }

    private func methodName(_ method: String) -> JSStringRef {
        if let made = methodNames[method] { return made }
        let made = JSBridge.makeJSString(method)
        methodNames[method] = made
        return made
    }

    private func resolve(_ handlerName: String) throws -> JSObjectRef {
        if let cached = handlers[handlerName] { return cached }
        guard HandlerName.isValid(handlerName) else {
            throw PluginError.handlerNotFound(handler: handlerName, realm: name)
        }
        let script = JSBridge.makeJSString("typeof \(handlerName) === 'undefined' ? undefined : \(handlerName)")
        defer { JSStringRelease(script) }
        var exception: JSValueRef?
        let value = JSEvaluateScript(context, script, nil, nil, 1, &exception)
        guard exception == nil, let value, JSValueIsObject(context, value),
              let object = JSValueToObject(context, value, nil) else {
            throw PluginError.handlerNotFound(handler: handlerName, realm: name)
        }
        JSValueProtect(context, object)
        handlers[handlerName] = object
        return object
    }

    private struct ExceptionDetails {
        var name: String?
        var message: String
        var file: String?
        var line: Int?
        var column: Int?
    }

    /// A positive whole-number property (`line`, `column`) of an exception.
    private func position(_ name: String, of exception: JSValueRef) -> Int? {
        guard let value = JSBridge.property(context, exception, name), JSValueIsNumber(context, value) else { return nil }
        let number = JSValueToNumber(context, value, nil)
        guard number.isFinite, number >= 1, number < 1e9 else { return nil }
        return Int(number)
    }

    /// A location with the text of its line, when the file was loaded here.
    private func location(_ file: String, _ line: Int?, _ column: Int?) -> SourceLocation {
        var sourceLine: String?
        if let line, line >= 1, let source = sources[file] {
            // UTF-16, as JavaScriptCore counts lines and columns ("\r\n" is one Character).
            let lines = source.utf16.split(separator: 0x0A, omittingEmptySubsequences: false)
            if line <= lines.count {
                var text = lines[line - 1]
                if text.last == 0x0D { text = text.dropLast() }
                sourceLine = String(decoding: Array(text), as: UTF16.self)
            }
        }
        return SourceLocation(file: file, line: line, column: column, sourceLine: sourceLine)
    }

    /// JavaScriptCore gives syntax errors a line but no column. The column is
    /// found by checking ever longer prefixes of the file: the shortest one
    /// that fails with the same message on the same line ends at the
    /// offending token. Nil when no prefix reproduces the error.
    private func syntaxErrorColumn(in script: PluginScript, line: Int, message: String) -> Int? {
        let units = Array(script.source.utf16)
        var lineStart = 0
        var currentLine = 1
        while currentLine < line, lineStart < units.count {
            if units[lineStart] == 0x0A { currentLine += 1 }
            lineStart += 1
        }
        guard currentLine == line else { return nil }
        var lineEnd = lineStart
        while lineEnd < units.count, units[lineEnd] != 0x0A { lineEnd += 1 }
        guard lineEnd > lineStart, lineEnd - lineStart <= 500 else { return nil }
        let url = JSBridge.makeJSString(script.path)
        defer { JSStringRelease(url) }
        for end in (lineStart + 1)...lineEnd {
            let prefix = JSBridge.makeJSString(String(decoding: units[0..<end], as: UTF16.self))
            defer { JSStringRelease(prefix) }
            var exception: JSValueRef?
            guard !JSCheckScriptSyntax(context, prefix, url, 1, &exception) else { continue }
            let details = describe(exception)
            guard details.line == line, details.message == message else { continue }
            // The token ends at `end`; put the caret on its first character
            // when the message quotes it ("Unexpected token ';'").
            var tokenLength = 1
            if let open = message.firstIndex(of: "'"),
               let close = message[message.index(after: open)...].firstIndex(of: "'") {
                tokenLength = max(1, message[message.index(after: open)..<close].utf16.count)
            }
            return max(1, end - lineStart - tokenLength + 1)
        }
        return nil
    }

    private func describe(_ exception: JSValueRef?) -> ExceptionDetails {
        guard let exception else { return ExceptionDetails(message: "unknown error") }
        let name = JSBridge.property(context, exception, "name").flatMap { JSBridge.toString(context, $0) }
        var message = JSBridge.toString(context, exception) ?? "unknown error"
        if name == "PluginReturnError", let plain = JSBridge.property(context, exception, "message").flatMap({ JSBridge.toString(context, $0) }) {
            message = plain
        }
        let line = position("line", of: exception)
        var file = JSBridge.property(context, exception, "sourceURL").flatMap { value -> String? in
            JSBridge.isNullish(context, value) ? nil : JSBridge.toString(context, value)
        }
        let column = position("column", of: exception)
        if file == TykPrelude.path { file = nil }
        return ExceptionDetails(name: name, message: message, file: file, line: file == nil ? nil : line,
                                column: file == nil ? nil : column)
    }
}

/// Middleware names come from API definitions and are evaluated as JS, so
/// only plain identifiers, optionally dotted (`plugins.auth`), are accepted.
public enum HandlerName {
    /// True when `name` is a plain (dotted) JavaScript identifier.
    public static func isValid(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 200 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { part in
            guard let first = part.first, first.isLetter || first == "_" || first == "$" else { return false }
            return part.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "$" }
        }
    }
}

/// Set by the watchdog callback when it stops a script, so a termination can
/// be told apart from an ordinary exception.
///
/// A call that waited on the store may have run other calls on its thread
/// meanwhile (``JSWorker``); the watchdog counts the thread's CPU time, so
/// that time is excused: the call is given it back instead of being stopped.
final class TimeoutFlag: Sendable {
    private struct State {
        var fired = false
        /// Seconds other calls ran inside the running call, not yet given back.
        var excused = 0.0
        /// Whether the context group's limit was lowered to give time back.
        var lowered = false
    }

    private let state = Locked(State())

    var fired: Bool { state.value.fired }
    /// A new call starts: not fired, nothing excused.
    func reset() {
        state.withLock { s in
            s.fired = false
            s.excused = 0
        }
    }

    /// Other calls ran for `seconds` inside the running one.
    func excuse(_ seconds: Double) {
        state.withLock { $0.excused += seconds }
    }

    /// What the watchdog does when the running call reached its limit:
    /// the excused time to run on for (and the flag notes the lowered
    /// limit), or nil when the call is stopped (and the flag is fired).
    func expire() -> Double? {
        state.withLock { s -> Double? in
            guard s.excused > 0 else {
                s.fired = true
                return nil
            }
            defer { s.excused = 0 }
            s.lowered = true
            return s.excused
        }
    }

    /// Whether the limit was lowered since the last call; clears the note.
    func takeLowered() -> Bool {
        state.withLock { s in
            defer { s.lowered = false }
            return s.lowered
        }
    }
}
