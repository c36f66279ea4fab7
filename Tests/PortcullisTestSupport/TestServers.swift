@_exported import PortcullisScenarios

/// The real redis-server the scenario runner uses, under the name the tests know.
public typealias RedisServer = LocalRedisServer
/// The loopback HTTP upstream the scenario runner uses, under the name the tests know.
public typealias TestUpstream = LoopbackUpstream
