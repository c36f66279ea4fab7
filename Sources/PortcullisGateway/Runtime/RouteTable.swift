/// The APIs being served, matched by longest listen path first.
struct RouteTable: Sendable {
    final class Route: Sendable {
        let api: LoadedAPI
        let pipeline: Pipeline
        /// Keeps the realm loaded while requests run on this version.
        let lease: RealmLease

        init(api: LoadedAPI, pipeline: Pipeline, lease: RealmLease) {
            self.api = api
            self.pipeline = pipeline
            self.lease = lease
        }
    }

    let routes: [Route]
    let generation: Int

    init(routes: [Route], generation: Int) {
        self.routes = routes.sorted { $0.api.definition.listenPath.count > $1.api.definition.listenPath.count }
        self.generation = generation
    }

    /// The route whose listen path is a path prefix of `path` (`/api` and
    /// `/api/x` both match `/api/`); internal APIs are reached by loops only.
    /// Whether a listen path takes `path`: it starts with the listen path,
    /// or is the listen path without its final `/`. Compared as bytes, as
    /// Go's `strings.HasPrefix` does, and without building a string.
    static func serves(listenPath listen: String, path: String) -> Bool {
        if listen == "/" || path.utf8.starts(with: listen.utf8) { return true }
        return listen.utf8.count == path.utf8.count + 1 && listen.utf8.last == UInt8(ascii: "/")
            && listen.utf8.starts(with: path.utf8)
    }

    func match(_ path: String) -> Route? {
        routes.first { route in
            guard !route.api.definition.isInternal else { return false }
            return Self.serves(listenPath: route.api.definition.listenPath, path: path)
        }
    }
}
