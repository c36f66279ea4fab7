import Foundation
import PortcullisCore

/// Where a request stands in `tyk://` internal loops: a virtual endpoint
/// or a plugin override answering 301/302 with `Location: tyk://self/…`
/// or `tyk://<api_id or name>/…` sends the request through that API's
/// pipeline inside the gateway instead of back to the client.
public struct InternalLoop: Sendable {
    /// Loops taken so far.
    public var level = 0
    /// `loop_limit` from the first loop that set one; 0 means Tyk's 5.
    public var limit = 0
    /// The last loop went to the same API (`tyk://self`): auth keeps the
    /// session it already has.
    public var selfLooping = false
    /// `check_limits=true` on a loop: rate limits and quotas apply again.
    public var checkLimits = false

    /// Tyk's default `loop_limit`.
    public static let defaultLimit = 5
    /// The highest `loop_limit` honoured, so one request cannot loop for ever.
    public static let maxLimit = 100

    /// Whether rate limits and quotas apply: always outside a loop; inside
    /// one only when the loop asked with `check_limits=true`.
    var checksLimits: Bool { checkLimits || level == 0 }
}

/// A `Location` that loops: `tyk://<host>/<path>?<query>` with the loop's
/// own parameters (`method`, `loop_limit`, `check_limits`) taken out.
struct LoopLocation: Equatable {
    /// `self`, an `api_id`, or an API name with non-alphanumerics as `-`.
    var host: String
    var path: String
    /// The rest of the query, re-encoded as Tyk re-encodes it; nil when empty.
    var query: String?
    var method: String?
    var loopLimit: Int
    var checkLimits: Bool

    /// Reads `location`; nil when it is not a `tyk://` URL.
    init?(_ location: String) {
        guard location.lowercased().hasPrefix("tyk://"), let components = URLComponents(string: location),
              let host = components.host, !host.isEmpty else { return nil }
        self.host = host
        path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        var params = QueryString.parse(components.percentEncodedQuery ?? "")
        method = params["method"]?.first.flatMap { $0.isEmpty ? nil : $0.uppercased() }
        loopLimit = min(params["loop_limit"]?.first.flatMap { Int($0) } ?? 0, InternalLoop.maxLimit)
        checkLimits = params["check_limits"]?.first == "true"
        for control in ["method", "loop_limit", "check_limits"] { params[control] = nil }
        let encoded = QueryString.encode(params)
        query = encoded.isEmpty ? nil : encoded
    }

    /// Whether an answer with this status and `Location` header loops.
    static func looping(status: Int, location: String?) -> LoopLocation? {
        guard status == 301 || status == 302, let location else { return nil }
        return LoopLocation(location)
    }
}

/// Finds loop targets among the APIs being served and runs looped
/// requests through them. Set up by the gateway once its route table exists.
public final class LoopRouter: Sendable {
    /// What the router needs from the gateway: the route for a loop host
    /// (entered, so it stays loaded until `leave`).
    struct Resolver: Sendable {
        var route: @Sendable (_ host: String, _ current: String) -> RouteTable.Route?
    }

    private let resolver = Locked<Resolver?>(nil)

    init() {}

    func install(_ resolve: Resolver) {
        resolver.value = resolve
    }

    /// Tyk's name for an API in loop URLs: the name before any ` #category`,
    /// with every run of non-alphanumeric characters as `-`.
    static func loopingName(_ name: String) -> String {
        var base = Substring(name)
        if let hash = base.firstIndex(of: "#") {
            base = base[..<hash]
            if base.last == " " { base = base.dropLast() }
        }
        var result = ""
        var inRun = false
        for scalar in base.unicodeScalars {
            if scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar)) {
                result.unicodeScalars.append(scalar)
                inRun = false
            } else if !inRun {
                result += "-"
                inRun = true
            }
        }
        return result
    }

    /// Runs `request` again as `location` says, and answers with what that
    /// API answers: from its first stage, as a new request would, with the
    /// loop level raised. Too many loops, or an unknown target, are 500s.
    func follow(_ location: LoopLocation, from request: GatewayRequest, services: GatewayServices) async -> GatewayResponse {
        var loop = request.loop
        let limit = loop.limit > 0 ? loop.limit : InternalLoop.defaultLimit
        guard loop.level <= limit else {
            return Pipeline.errorResponse(GatewayError.loopTooDeep(limit: limit), request: request, services: services)
        }
        guard let resolve = resolver.value, let route = resolve.route(location.host, request.api.definition.apiID) else {
            return Pipeline.errorResponse(GatewayError.loopTargetUnknown(location.host), request: request, services: services)
        }
        defer { route.lease.leave() }
        if loop.limit == 0 && location.loopLimit > 0 { loop.limit = location.loopLimit }
        loop.level += 1
        loop.selfLooping = location.host == "self"
        loop.checkLimits = location.checkLimits
        var looped = request.looped(to: route.api, path: location.path, query: location.query,
                                    method: location.method ?? request.method, keepSession: loop.selfLooping)
        looped.loop = loop
        return await route.pipeline.handle(looped, services: services)
    }
}
