import Foundation

/// Tyk's folder convention for plugins: `<middleware_path>/<api_id>/{pre,auth,post_auth,post}/*.js`.
/// The object name is the file name up to the first dot; a name ending in
/// `_with_session` asks for the session (meaningful for post_auth and post).
/// Files found here are added after the hooks the API definition declares.
enum MiddlewareFolder {
    static func discover(root: String, apiID: String) -> (pre: [MiddlewareEntry], auth: MiddlewareEntry?,
                                                          postKeyAuth: [MiddlewareEntry], post: [MiddlewareEntry]) {
        let base = (root as NSString).appendingPathComponent(apiID)
        func entries(_ folder: String) -> [MiddlewareEntry] {
            let path = (base as NSString).appendingPathComponent(folder)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return [] }
            return names.filter { $0.hasSuffix(".js") }.sorted().compactMap { file in
                guard let name = file.split(separator: ".").first.map(String.init), !name.isEmpty else { return nil }
                return MiddlewareEntry(name: name, path: (path as NSString).appendingPathComponent(file),
                                       requireSession: name.hasSuffix("_with_session"))
            }
        }
        return (entries("pre"), entries("auth").first, entries("post_auth"), entries("post"))
    }
}

extension APIDefinition {
    /// Adds the hooks found under `middlewarePath` for this API.
    mutating func addFolderMiddleware(root: String) {
        guard !root.isEmpty else { return }
        let found = MiddlewareFolder.discover(root: root, apiID: apiID)
        middleware.pre += found.pre
        middleware.postKeyAuth += found.postKeyAuth
        middleware.post += found.post
        if middleware.authCheck == nil, let auth = found.auth { middleware.authCheck = auth }
    }
}
