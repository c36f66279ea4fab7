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
    func match(_ path: String) -> Route? {
        routes.first { route in
            guard !route.api.definition.isInternal else { return false }
            let listen = route.api.definition.listenPath
            return listen == "/" || path.hasPrefix(listen) || path + "/" == listen
        }
    }
}
