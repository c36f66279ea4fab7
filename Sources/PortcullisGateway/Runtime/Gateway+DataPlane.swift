import Foundation
import PortcullisCore
import NIOCore
import NIOPosix

/// A request as the data plane read it off a connection: path already
/// normalised, limits already checked.
public struct IncomingRequest: Sendable {
    /// HTTP method.
    public var method: String
    /// Path with dot segments resolved.
    public var path: String
    /// Raw query string without `?`.
    public var query: String?
    /// Headers in order, names as received.
    public var headers: HeaderList
    /// Body bytes.
    public var bodyBuffer: ByteBuffer
    /// The client's IP address.
    public var remoteAddress: String?
    /// `http`, or `https` when the listener terminated TLS.
    public var scheme: String = "http"

    /// Creates a request.
    public init(method: String, path: String, query: String?, headers: HeaderList, bodyBuffer: ByteBuffer, remoteAddress: String?) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.bodyBuffer = bodyBuffer
        self.remoteAddress = remoteAddress
    }
}

extension Gateway {
    /// Serves one request on its connection's event loop and calls
    /// `respond` there with the answer.
    ///
    /// Stages that can decide at once run right here; the upstream is
    /// called through this loop's connection pool with a callback. Only
    /// when a stage has to wait (a JS hook, a store round trip) does the
    /// rest run as a task, and that task runs on this same loop. So a
    /// keyless or cached token-auth request is served with no task,
    /// continuation or thread hop.
    public func serve(_ incoming: IncomingRequest, servesAdmin: Bool, on eventLoop: any EventLoop,
                      respond: @escaping (GatewayResponse) -> Void) {
        if (servesAdmin && AdminAPI.claims(incoming.path)) || services.race != nil {
            let reply = NIOLoopBound(respond, eventLoop: eventLoop)
            Task {
                let answer = await handle(method: incoming.method, path: incoming.path, query: incoming.query,
                                          headers: incoming.headers, body: Array(buffer: incoming.bodyBuffer),
                                          scheme: incoming.scheme, remoteAddress: incoming.remoteAddress, servesAdmin: servesAdmin)
                eventLoop.execute { reply.value(answer) }
            }
            return
        }
        if AdminAPI.isAdminPath(incoming.path) {
            respond(GatewayResponse.error(status: 404, message: GatewayError.noAPI(path: incoming.path).message))
            return
        }
        guard let route = enterRoute(for: incoming.path) else {
            respond(GatewayResponse.error(status: 404, message: GatewayError.noAPI(path: incoming.path).message))
            return
        }
        var request = GatewayRequest(id: RequestID.next(), api: route.api, method: incoming.method, path: incoming.path,
                                     query: incoming.query, headers: incoming.headers, bodyBuffer: incoming.bodyBuffer,
                                     scheme: incoming.scheme, remoteAddress: incoming.remoteAddress)
        request.trace = services.tracing?.trace(request)
        let progress = route.pipeline.advanceInline(&request, services: services)
        proceed(progress, request, route, eventLoop, respond)
    }

    private func proceed(_ progress: Pipeline.Progress, _ request: GatewayRequest, _ route: RouteTable.Route,
                         _ eventLoop: any EventLoop, _ respond: @escaping (GatewayResponse) -> Void) {
        let pipeline = route.pipeline
        switch progress {
        case .answered(let response):
            complete(response, request, route, respond)
        case .waiting(let stage):
            let reply = NIOLoopBound(respond, eventLoop: eventLoop)
            // A stage that can hand its work off (a JS hook) comes back with
            // one hop to this loop; the others wait in a task on it.
            let started = pipeline.stages[stage].start(request) { [self] request, result in
                eventLoop.execute { [self] in
                    var current = request
                    let next: Pipeline.Progress
                    switch result {
                    case .success(.next): next = pipeline.advanceInline(&current, from: stage + 1, services: services)
                    case .success(.respond(let response)): next = .answered(response)
                    case .success(.forward(let outgoing)): next = .forward(outgoing)
                    case .failure(let error): next = .answered(Pipeline.errorResponse(error, request: current, services: services))
                    }
                    proceed(next, current, route, eventLoop, reply.value)
                }
            }
            if started { return }
            waitOn(eventLoop) { [self] in
                var current = request
                let next = await pipeline.advance(&current, from: stage, services: services)
                eventLoop.execute { [self, current] in proceed(next, current, route, eventLoop, reply.value) }
            }
        case .forward(let outgoing):
            services.upstream.send(outgoing, on: eventLoop) { [self] result in
                let (response, failed) = pipeline.response(to: result, request: request, services: services)
                guard !failed, pipeline.hasResponseStages else {
                    complete(response, request, route, respond)
                    return
                }
                let reply = NIOLoopBound(respond, eventLoop: eventLoop)
                waitOn(eventLoop) { [self] in
                    var response = response
                    await pipeline.runResponseStages(&response, request: request, services: services)
                    eventLoop.execute { [self, response] in complete(response, request, route, reply.value) }
                }
            }
        }
    }

    private func complete(_ response: GatewayResponse, _ request: GatewayRequest, _ route: RouteTable.Route,
                          _ respond: (GatewayResponse) -> Void) {
        let final = route.pipeline.finish(response, request: request)
        services.metrics.recordRequest(api: route.api.definition.apiID, status: final.status)
        request.trace?.finish(status: final.status)
        route.lease.leave()
        respond(final)
    }

    /// Runs `body` as a task on `eventLoop`'s executor (or the default one
    /// for a loop that is not the gateway's).
    private func waitOn(_ eventLoop: any EventLoop, _ body: @escaping @Sendable () async -> Void) {
        if let executor = services.loopExecutors.executor(for: eventLoop) {
            Task(executorPreference: executor, operation: body)
        } else {
            Task(operation: body)
        }
    }
}

/// Request ids for logs: a random per-process prefix and a counter, far
/// cheaper than a UUID per request and still unique across nodes.
enum RequestID {
    private static let prefix: String = {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next() & 0xFFFF_FFFF, radix: 16)
    }()
    private static let counter = Locked<UInt64>(0)

    static func next() -> String {
        let value = counter.withLock { count -> UInt64 in
            count &+= 1
            return count
        }
        return prefix + "-" + String(value, radix: 16)
    }
}
