import CJavaScriptCore

/// Tyk runs each otto call on a copy of its VM, so a global a handler
/// assigns during a request (`user = …` without `var`) is gone for the
/// next request. Here a realm lives on, so after each call the globals that
/// were not there once the plugin files had loaded are deleted again, and
/// the first time a name appears the engine warns, naming the handler: a
/// plugin that stashes per-request data in a global would otherwise leak
/// one client's value into the next client's request. Top-level `var`s
/// that a call changes keep their new value (a difference from Tyk that
/// the plugin guide lists).
extension JSRealm {
    /// Makes every enumerable global defined so far (the bindings, the
    /// prelude's `TykJS`, `console`, `fetch`, the library's `_`) not
    /// enumerable. They stay readable, writable and deletable by name; only
    /// a listing of the global object (`Object.keys(this)`, `for…in`) no
    /// longer shows them. The check that follows every call counts the
    /// enumerable globals, and each one costs that count about 0.1 µs: with
    /// the gateway's twenty it was about a tenth of a short hook's time on
    /// its worker. Called after the prelude and after the library, before
    /// any plugin file, so what plugins define stays enumerable.
    func hideGatewayGlobals() {
        let script = JSBridge.makeJSString("""
            (function (global) {
              var names = Object.keys(global);
              for (var i = 0; i < names.length; i++) {
                var d = Object.getOwnPropertyDescriptor(global, names[i]);
                if (d && d.configurable) { d.enumerable = false; Object.defineProperty(global, names[i], d); }
              }
            })(this);
            """)
        defer { JSStringRelease(script) }
        _ = JSEvaluateScript(context, script, nil, nil, 1, nil)
    }

    /// The enumerable own names of the global object.
    private func globalNames() -> (names: JSPropertyNameArrayRef?, count: Int) {
        let names = JSObjectCopyPropertyNames(context, JSContextGetGlobalObject(context))
        return (names, names.map(JSPropertyNameArrayGetCount) ?? 0)
    }

    /// Records the globals the loaded files defined; once, before the first call.
    func rememberLoadedGlobals() {
        guard loadedGlobals == nil else { return }
        let (names, count) = globalNames()
        defer { if let names { JSPropertyNameArrayRelease(names) } }
        var set = Set<String>()
        for index in 0..<count {
            if let name = JSPropertyNameArrayGetNameAtIndex(names, index) { set.insert(JSBridge.swiftString(name)) }
        }
        loadedGlobals = set
    }

    /// Deletes the globals `handlerName`'s call added, warning once per name.
    func dropCallGlobals(handlerName: String) {
        guard let loaded = loadedGlobals else { return }
        let (names, count) = globalNames()
        defer { if let names { JSPropertyNameArrayRelease(names) } }
        guard count != loaded.count else { return }
        let global = JSContextGetGlobalObject(context)
        let realm = self.name
        for index in 0..<count {
            guard let name = JSPropertyNameArrayGetNameAtIndex(names, index) else { continue }
            let text = JSBridge.swiftString(name)
            guard !loaded.contains(text) else { continue }
            JSObjectDeleteProperty(context, global, name, nil)
            if warnedGlobals.insert(text).inserted {
                scope.logger.warning("plugin \(handlerName) assigned the global '\(text)' during a call; as under Tyk, where each call runs on a copy of the VM, it is removed after the call. Declare it with var at the top of the file to keep a value across calls, or keep per-request data in local variables",
                                     metadata: ["prefix": "jsvm", "realm": .string(realm)])
            }
        }
    }
}
