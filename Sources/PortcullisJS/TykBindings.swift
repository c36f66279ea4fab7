import CJavaScriptCore
import Foundation
import PortcullisCore

/// Installs Tyk's global functions into a realm's context. Each is a thin
/// adapter: convert arguments as Tyk does (`ToString`), call Swift, convert back.
enum TykBindings {
    static func install(_ context: JSGlobalContextRef, scope: CallScope, clock: any GatewayClock) {
        func arg(_ context: JSContextRef, _ arguments: NativeArguments, _ index: Int) -> String {
            guard index < arguments.count else { return "undefined" }
            return JSBridge.toString(context, arguments[index]) ?? "undefined"
        }

        NativeFunction.install(context, name: "__portcullisNow") { context, _ in
            JSValueMakeNumber(context, clock.now().timeIntervalSince1970 * 1000)
        }
        // Captured and deleted by the prelude (its global-count check).
        NativeFunction.install(context, name: "__portcullisGlobalsMoved") { _, _ in
            scope.globalsMoved = true
            return nil
        }
        // Captured and deleted by the prelude (its method check).
        NativeFunction.install(context, name: "__portcullisOwnMethod") { context, arguments in
            scope.ownMethod = arguments.first.map { JSValueToBoolean(context, $0) } ?? false
            return nil
        }
        NativeFunction.install(context, name: "log") { context, arguments in
            scope.record(PluginLogLine(kind: .log, message: arg(context, arguments, 0)))
            return nil
        }
        // Levelled logging behind log.debug/info/warn/error (Tyk issue 2946).
        NativeFunction.install(context, name: "__portcullisLog") { context, arguments in
            let kind = PluginLogLine.Kind(rawValue: arg(context, arguments, 0)) ?? .log
            scope.record(PluginLogLine(kind: kind, message: arg(context, arguments, 1)))
            return nil
        }
        NativeFunction.install(context, name: "rawlog") { context, arguments in
            scope.record(PluginLogLine(kind: .raw, message: arg(context, arguments, 0)))
            return nil
        }
        installBase64(context, scope: scope, arg: arg)
        installSessions(context, scope: scope, arg: arg)
        installHTTP(context, scope: scope, arg: arg)
        TykStorageBindings.install(context, scope: scope, arg: arg)
    }

    typealias ArgumentReader = (JSContextRef, NativeArguments, Int) -> String

    private static func installBase64(_ context: JSGlobalContextRef, scope: CallScope, arg: @escaping ArgumentReader) {
        NativeFunction.install(context, name: "b64enc") { context, arguments in
            JSBridge.makeString(context, Base64Text.encode(arg(context, arguments, 0), padded: true))
        }
        NativeFunction.install(context, name: "rawb64enc") { context, arguments in
            JSBridge.makeString(context, Base64Text.encode(arg(context, arguments, 0), padded: false))
        }
        NativeFunction.install(context, name: "b64dec") { context, arguments in
            let input = arg(context, arguments, 0)
            guard let decoded = Base64Text.decodeLenient(input) else {
                scope.record(PluginLogLine(kind: .warning, message: "b64dec: input is not valid base64 (\(input.prefix(40)))"))
                return nil
            }
            return JSBridge.makeString(context, decoded)
        }
        NativeFunction.install(context, name: "rawb64dec") { context, arguments in
            let input = arg(context, arguments, 0)
            guard let decoded = Base64Text.decodeUnpadded(input) else {
                scope.record(PluginLogLine(kind: .warning, message: "rawb64dec: input is not valid unpadded base64 (\(input.prefix(40)))"))
                return nil
            }
            return JSBridge.makeString(context, decoded)
        }
    }

    private static func installSessions(_ context: JSGlobalContextRef, scope: CallScope, arg: @escaping ArgumentReader) {
        let lastSession = ReusedJSString()
        NativeFunction.install(context, name: "TykGetKeyData") { context, arguments in
            let host = try scope.requireHost("TykGetKeyData")
            let key = arg(context, arguments, 0)
            let apiID = arguments.count > 1 && !JSBridge.isNullish(context, arguments[1]) ? arg(context, arguments, 1) : ""
            let json = try host.getKeyDataImmediately(key: key, apiID: apiID)
                ?? scope.block(on: .store) { try await host.getKeyData(key: key, apiID: apiID) }
            return lastSession.value(for: json, in: context)
        }
        NativeFunction.install(context, name: "TykSetKeyData") { context, arguments in
            let host = try scope.requireHost("TykSetKeyData")
            let key = arg(context, arguments, 0)
            if arguments.count > 1, let value = arguments[1], JSValueIsObject(context, value) {
                throw NativeFunctionError("TykSetKeyData expects the session as a JSON string; pass JSON.stringify(session)", name: "TypeError")
            }
            guard !key.isEmpty, key != "undefined" else {
                throw NativeFunctionError("TykSetKeyData needs a key as its first argument", name: "TypeError")
            }
            let json = arg(context, arguments, 1)
            let suppress = arguments.count > 2 && ["1", "true"].contains(arg(context, arguments, 2))
            // Marked as a store wait whether or not the store does I/O here,
            // as a write through the bridge is.
            switch try scope.waiting(on: .store, { try host.setKeyDataImmediately(key: key, sessionJSON: json, suppressReset: suppress) }) {
            case .done: break
            case .confirming(let confirmations): try scope.block(on: .store, confirmations)
            case .mustWait: try scope.block(on: .store) { try await host.setKeyData(key: key, sessionJSON: json, suppressReset: suppress) }
            }
            return nil
        }
    }

    private static func installHTTP(_ context: JSGlobalContextRef, scope: CallScope, arg: @escaping ArgumentReader) {
        NativeFunction.install(context, name: "TykMakeHttpRequest") { context, arguments in
            let host = try scope.requireHost("TykMakeHttpRequest")
            let json = arg(context, arguments, 0)
            if json == "undefined" { return nil }
            let timeout = scope.current?.httpTimeoutSeconds ?? 5
            do {
                let request = try TykHTTPContract.parseRequest(json, defaultTimeout: timeout)
                let response = try scope.block(on: .outbound) { try await host.send(request) }
                return JSBridge.makeString(context, TykHTTPContract.encodeResponse(response))
            } catch {
                scope.record(PluginLogLine(kind: .warning, message: "TykMakeHttpRequest failed: \(error)"))
                return nil
            }
        }
        // `fetch()` (an extension): starts the request and returns its id at
        // once; the prelude wraps the id in a Promise that the engine settles
        // when the response arrives (see JSRealm.settle).
        NativeFunction.install(context, name: "__portcullisFetch") { context, arguments in
            let host = try scope.requireHost("fetch")
            guard let fetches = scope.fetchTracker() else { throw NativeFunctionError("fetch is only available inside a handler") }
            let timeout = scope.current?.httpTimeoutSeconds ?? 5
            let id: Int
            do {
                let request = try TykHTTPContract.parseRequest(arg(context, arguments, 0), defaultTimeout: timeout)
                id = fetches.start { TykHTTPContract.encodeFetchResponse(try await host.send(request)) }
            } catch {
                id = fetches.reject("fetch refused: \(error)")
            }
            return JSValueMakeNumber(context, Double(id))
        }
        NativeFunction.install(context, name: "TykBatchRequest") { context, arguments in
            let host = try scope.requireHost("TykBatchRequest")
            let timeout = scope.current?.httpTimeoutSeconds ?? 5
            let batch: (items: [TykHTTPContract.BatchItem], sequential: Bool)
            do {
                batch = try TykHTTPContract.parseBatch(arg(context, arguments, 0), defaultTimeout: timeout)
            } catch {
                scope.record(PluginLogLine(kind: .warning, message: "TykBatchRequest failed: \(error)"))
                return nil
            }
            let items = batch.items
            let sequential = batch.sequential
            let replies = try scope.block(on: .outbound) { await BatchRunner.run(items, sequential: sequential, host: host) }
            for failure in replies.compactMap(\.failure) {
                scope.record(PluginLogLine(kind: .warning, message: "TykBatchRequest sub-request failed: \(failure)"))
            }
            return JSBridge.makeString(context, TykHTTPContract.encodeBatch(replies.map { ($0.relativeURL, $0.response) }))
        }
    }
}

/// Sends a batch's requests, in parallel unless told otherwise; replies come
/// back in completion order, as Tyk's do.
enum BatchRunner {
    struct Reply: Sendable {
        var relativeURL: String
        var response: PluginHTTPResponse?
        var failure: String?
    }

    static func run(_ items: [TykHTTPContract.BatchItem], sequential: Bool, host: any PluginHost) async -> [Reply] {
        let requests = items.map { ($0.relativeURL, $0.request) }
        @Sendable func send(_ url: String, _ request: PluginHTTPRequest) async -> Reply {
            do {
                return Reply(relativeURL: url, response: try await host.send(request))
            } catch {
                return Reply(relativeURL: url, response: nil, failure: "\(url): \(error)")
            }
        }
        if sequential {
            var replies: [Reply] = []
            for (url, request) in requests { replies.append(await send(url, request)) }
            return replies
        }
        return await withTaskGroup(of: Reply.self) { group in
            for (url, request) in requests { group.addTask { await send(url, request) } }
            var replies: [Reply] = []
            for await reply in group { replies.append(reply) }
            return replies
        }
    }
}
