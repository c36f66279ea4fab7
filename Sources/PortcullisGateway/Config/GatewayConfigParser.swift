import Foundation

extension GatewayConfig {
    /// Reads a `tyk.conf`-style file. Returns the fields it ignored so the
    /// caller can log them; refuses wrong types with the field named.
    public static func parse(_ text: String, file: String) throws -> (GatewayConfig, ignored: [String]) {
        let root = try ConfigReader.parse(text, file: file)
        var config = GatewayConfig()
        config.listenAddress = try root.string("listen_address").flatMap { $0.isEmpty ? nil : $0 } ?? config.listenAddress
        if let port = try root.int("listen_port") {
            guard (0...65535).contains(port) else {
                throw ConfigError.invalidField(file: file, field: "listen_port", reason: "must be 0 to 65535, got \(port)")
            }
            config.listenPort = Int(port)
        }
        config.secret = try root.string("secret") ?? config.secret
        config.appPath = try root.string("app_path") ?? config.appPath
        config.middlewarePath = try root.string("middleware_path") ?? config.middlewarePath
        config.tykJSPath = try root.string("tyk_js_path") ?? config.tykJSPath
        if let storage = try root.object("storage") {
            config.storage.type = try storage.string("type") ?? config.storage.type
            guard ["memory", "redis"].contains(config.storage.type) else {
                throw ConfigError.invalidField(file: file, field: "storage.type", reason: "must be memory or redis, got '\(config.storage.type)'")
            }
            config.storage.host = try storage.string("host") ?? config.storage.host
            config.storage.port = Int(try storage.int("port") ?? Int64(config.storage.port))
            config.storage.username = try storage.string("username") ?? ""
            config.storage.password = try storage.string("password") ?? config.storage.password
            config.storage.database = Int(try storage.int("database") ?? 0)
            guard config.storage.database >= 0 else {
                throw ConfigError.invalidField(file: file, field: "storage.database", reason: "must be 0 or more, got \(config.storage.database)")
            }
            config.storage.timeout = try storage.double("timeout") ?? config.storage.timeout
            config.storage.useSSL = try storage.bool("use_ssl") ?? false
            config.storage.sslInsecureSkipVerify = try storage.bool("ssl_insecure_skip_verify") ?? false
            config.storage.caFile = try storage.string("ca_file") ?? ""
            config.storage.certFile = try storage.string("cert_file") ?? ""
            config.storage.keyFile = try storage.string("key_file") ?? ""
            config.storage.masterName = try storage.string("master_name") ?? ""
            config.storage.sentinelPassword = try storage.string("sentinel_password") ?? ""
            let addrs = try storage.array("addrs") ?? []
            config.storage.addrs = try addrs.enumerated().map { index, value in
                guard case .string(let text) = value, Self.hostPort(text) != nil else {
                    throw ConfigError.invalidField(file: file, field: "storage.addrs[\(index)]", reason: "must be \"host:port\", got \(value.jsonString())")
                }
                return text
            }
            if !config.storage.masterName.isEmpty && config.storage.addrs.isEmpty {
                throw ConfigError.invalidField(file: file, field: "storage.addrs",
                                               reason: "master_name '\(config.storage.masterName)' needs the sentinels' addresses, e.g. [\"10.0.0.1:26379\"]")
            }
            if let replicas = try storage.int("wait_replicas") {
                guard (0...64).contains(replicas) else {
                    throw ConfigError.invalidField(file: file, field: "storage.wait_replicas", reason: "must be 0 to 64, got \(replicas)")
                }
                config.storage.waitReplicas = Int(replicas)
            }
            if let wait = try storage.int("wait_timeout_ms") {
                guard (1...60_000).contains(wait) else {
                    throw ConfigError.invalidField(file: file, field: "storage.wait_timeout_ms", reason: "must be 1 to 60000 milliseconds, got \(wait)")
                }
                config.storage.waitTimeoutMilliseconds = Int(wait)
            }
            storage.acknowledge("optimisation_max_idle", "optimisation_max_active", "enable_cluster", "hosts", "tls_max_version", "tls_min_version")
        }
        if let cache = try root.object("local_session_cache") {
            config.localSessionCache.disableCachedSessionState = try cache.bool("disable_cached_session_state") ?? false
            config.localSessionCache.cachedSessionTimeout = try cache.double("cached_session_timeout") ?? 10
            cache.acknowledge("cached_session_eviction")
        }
        config.hashKeys = try root.bool("hash_keys") ?? config.hashKeys
        config.ignoreCanonicalMIMEHeaderKey = try root.bool("ignore_canonical_mime_header_key") ?? false
        config.ignoreEndpointCase = try root.bool("ignore_endpoint_case") ?? false
        if let server = try root.object("http_server_options") {
            config.pathPrefixMatching = try server.bool("enable_path_prefix_matching") ?? false
            config.pathSuffixMatching = try server.bool("enable_path_suffix_matching") ?? false
            config.listenerTLS = try parseListenerTLS(server, file: file)
        }
        config.controlAPIUseSSL = try root.bool("control_api_use_ssl") ?? (config.listenerTLS != nil)
        if config.controlAPIUseSSL && config.listenerTLS == nil {
            throw ConfigError.invalidField(file: file, field: "control_api_use_ssl",
                                           reason: "needs http_server_options.use_ssl and its certificates, which the control listener shares")
        }
        config.hashKeyFunction = try root.string("hash_key_function") ?? config.hashKeyFunction
        config.enableKeyLogging = try root.bool("enable_key_logging") ?? false
        config.globalSessionLifetime = try root.int("global_session_lifetime") ?? 0
        config.forceGlobalSessionLifetime = try root.bool("force_global_session_lifetime") ?? false
        config.sessionLifetimeRespectsKeyExpiration = try root.bool("session_lifetime_respects_key_expiration") ?? false
        config.enableJSVM = try root.bool("enable_jsvm") ?? config.enableJSVM
        config.jsvmTimeout = try root.double("jsvm_timeout") ?? config.jsvmTimeout
        if config.jsvmTimeout <= 0 { config.jsvmTimeout = 5 }
        if let workers = try root.int("jsvm_workers") {
            guard (0...256).contains(workers) else {
                throw ConfigError.invalidField(file: file, field: "jsvm_workers", reason: "must be 0 (automatic) to 256, got \(workers)")
            }
            config.jsvmWorkers = Int(workers)
        }
        if let most = try root.int("jsvm_max_workers") {
            guard (0...1024).contains(most) else {
                throw ConfigError.invalidField(file: file, field: "jsvm_max_workers", reason: "must be 0 (automatic) to 1024, got \(most)")
            }
            config.jsvmMaxWorkers = Int(most)
        }
        if let idle = try root.double("jsvm_worker_idle_seconds") {
            guard idle >= 1, idle <= 86_400 else {
                throw ConfigError.invalidField(file: file, field: "jsvm_worker_idle_seconds", reason: "must be 1 to 86400 seconds, got \(idle)")
            }
            config.jsvmWorkerIdleSeconds = idle
        }
        config.jsvmNestedCalls = try root.bool("jsvm_nested_calls") ?? false
        config.asyncSessionWrite = try root.bool("optimisations_use_async_session_write") ?? false
        config.allowMasterKeys = try root.bool("allow_master_keys") ?? false
        config.proxySSLInsecureSkipVerify = try root.bool("proxy_ssl_insecure_skip_verify") ?? false
        if let timeout = try root.double("proxy_default_timeout") {
            guard timeout >= 0, timeout <= 86_400 else {
                throw ConfigError.invalidField(file: file, field: "proxy_default_timeout", reason: "must be 0 (30 seconds) to 86400 seconds, got \(timeout)")
            }
            config.proxyDefaultTimeout = timeout > 0 ? timeout : 30
        }
        config.minTokenLength = Int(try root.int("min_token_length") ?? 3)
        config.maxRequestBodySize = Int(try root.int("max_request_body_size") ?? 0)
        if let limit = try root.int("max_header_bytes") {
            guard (1024...1_048_576).contains(limit) else {
                throw ConfigError.invalidField(file: file, field: "max_header_bytes", reason: "must be 1024 to 1048576, got \(limit)")
            }
            config.maxHeaderBytes = Int(limit)
        }
        config.controlAPIHostname = try root.string("control_api_hostname") ?? ""
        if let port = try root.int("control_api_port") {
            guard (0...65535).contains(port) else {
                throw ConfigError.invalidField(file: file, field: "control_api_port", reason: "must be 0 to 65535, got \(port)")
            }
            config.controlAPIPort = Int(port)
        }
        if let scope = try root.string("plugin_key_scope") {
            guard let value = PluginKeyScope(rawValue: scope) else {
                throw ConfigError.invalidField(file: file, field: "plugin_key_scope", reason: "must be \"api\" or \"any\", got '\(scope)'")
            }
            config.pluginKeyScope = value
        }
        if let policies = try root.object("policies") {
            let source = try policies.string("policy_source") ?? ""
            guard source.isEmpty || source == "file" else {
                throw ConfigError.invalidField(file: file, field: "policies.policy_source",
                                               reason: "must be \"file\" (policies from policy_path or policy_record_name), got '\(source)'; "
                                                   + "Portcullis has no dashboard or RPC policy source")
            }
            config.policies.recordName = try policies.string("policy_record_name") ?? ""
            config.policies.path = try policies.string("policy_path") ?? ""
            policies.acknowledge("policy_connection_string", "allow_explicit_policy_id")
        }
        if let telemetry = try root.object("opentelemetry") {
            config.openTelemetry = try parseOpenTelemetry(telemetry, file: file)
        }
        config.pluginHTTP.allow = try hostRules(root, "plugin_http_allow", file: file) ?? []
        config.pluginHTTP.deny = try hostRules(root, "plugin_http_deny", file: file) ?? PluginHTTPPolicy.defaultDeny
        return (config, root.ignoredFields)
    }

    /// `http_server_options.use_ssl` with its certificates and `min_version`
    /// (a TLS version as text, or Tyk's numbers 769–772); nil without TLS.
    private static func parseListenerTLS(_ server: ConfigReader, file: String) throws -> ListenerTLSConfig? {
        server.acknowledge("max_version", "ssl_certificates", "ssl_ciphers", "prefer_server_ciphers", "ssl_insecure_skip_verify")
        guard try server.bool("use_ssl") == true else { return nil }
        let entries = try server.array("certificates") ?? []
        guard !entries.isEmpty else {
            throw ConfigError.invalidField(file: file, field: server.path("certificates"),
                                           reason: "use_ssl needs at least one {\"domain_name\", \"cert_file\", \"key_file\"}")
        }
        let certificates = try entries.enumerated().map { index, value -> ListenerTLSConfig.Certificate in
            let entry = try server.element("certificates", index, value)
            guard let cert = try entry.string("cert_file"), !cert.isEmpty else { throw ConfigError.missingField(file: file, field: entry.path("cert_file")) }
            guard let key = try entry.string("key_file"), !key.isEmpty else { throw ConfigError.missingField(file: file, field: entry.path("key_file")) }
            return ListenerTLSConfig.Certificate(domainName: try entry.string("domain_name") ?? "", certFile: cert, keyFile: key)
        }
        var minVersion = "1.2"
        if let value = server.value("min_version") {
            let versions: [Int64: String] = [769: "1.0", 770: "1.1", 771: "1.2", 772: "1.3"]
            switch value {
            case .int(let number) where versions[number] != nil: minVersion = versions[number] ?? "1.2"
            case .string(let text) where ["1.0", "1.1", "1.2", "1.3"].contains(text): minVersion = text
            default:
                throw ConfigError.invalidField(file: file, field: server.path("min_version"),
                                               reason: "must be \"1.0\" to \"1.3\" or Tyk's 769 to 772, got \(value.jsonString())")
            }
        }
        return ListenerTLSConfig(certificates: certificates, minVersion: minVersion)
    }

    /// The `opentelemetry` section, read only when `enabled` is true (as Tyk
    /// does); what Portcullis cannot honour is refused with the field named.
    private static func parseOpenTelemetry(_ section: ConfigReader, file: String) throws -> OpenTelemetryConfig {
        var settings = OpenTelemetryConfig()
        section.acknowledge("traces", "metrics", "custom_trace_header")
        guard try section.bool("enabled") == true else { return settings }
        settings.enabled = true
        if let exporter = try section.string("exporter"), !exporter.isEmpty {
            guard let value = OpenTelemetryConfig.Exporter(rawValue: exporter) else {
                throw ConfigError.invalidField(file: file, field: section.path("exporter"), reason: "must be \"grpc\" or \"http\", got '\(exporter)'")
            }
            settings.exporter = value
        }
        if let endpoint = try section.string("endpoint"), !endpoint.isEmpty {
            let bare = endpoint.range(of: "://").map { String(endpoint[$0.upperBound...]) } ?? endpoint
            let hostPort = bare.split(separator: "/", maxSplits: 1).first.map(String.init) ?? bare
            guard Self.hostPort(hostPort) != nil else {
                throw ConfigError.invalidField(file: file, field: section.path("endpoint"), reason: "must be \"host:port\" of the collector, got '\(endpoint)'")
            }
            settings.endpoint = hostPort
        }
        if let headers = try section.object("headers") {
            for name in headers.object.keys.sorted() {
                guard let value = headers.value(name) else { continue }
                guard case .string(let text) = value else {
                    throw ConfigError.invalidField(file: file, field: headers.path(name), reason: "must be a string, got \(value.jsonString())")
                }
                settings.headers[name] = text
            }
        }
        if let timeout = try section.double("connection_timeout"), timeout > 0 { settings.connectionTimeout = timeout }
        if let name = try section.string("resource_name"), !name.isEmpty { settings.resourceName = name }
        if let processor = try section.string("span_processor_type"), !processor.isEmpty {
            guard processor == "batch" || processor == "simple" else {
                throw ConfigError.invalidField(file: file, field: section.path("span_processor_type"), reason: "must be \"batch\" or \"simple\", got '\(processor)'")
            }
            settings.simpleProcessor = processor == "simple"
        }
        if let batch = try section.object("span_batch_config") {
            settings.maxQueueSize = Int(max(0, try batch.int("max_queue_size") ?? 0))
            settings.maxExportBatchSize = Int(max(0, try batch.int("max_export_batch_size") ?? 0))
            settings.batchTimeout = max(0, try batch.double("batch_timeout") ?? 0)
        }
        if let propagation = try section.string("context_propagation"), !propagation.isEmpty {
            guard propagation == "tracecontext" else {
                throw ConfigError.invalidField(file: file, field: section.path("context_propagation"),
                                               reason: "must be \"tracecontext\" (W3C traceparent/tracestate), got '\(propagation)'; "
                                                   + "the exporter has no B3 or custom-header propagator")
            }
            settings.propagation = propagation
        }
        if let sampling = try section.object("sampling") {
            let kind = try sampling.string("type") ?? ""
            let rate = try sampling.double("rate") ?? 0.5
            switch kind.lowercased() {
            case "", "alwayson": settings.sampling = .alwaysOn
            case "alwaysoff": settings.sampling = .alwaysOff
            case "traceidratiobased":
                guard (0...1).contains(rate) else {
                    throw ConfigError.invalidField(file: file, field: sampling.path("rate"), reason: "must be 0 to 1, got \(rate)")
                }
                settings.sampling = .ratio(rate)
            default:
                throw ConfigError.invalidField(file: file, field: sampling.path("type"),
                                               reason: "must be AlwaysOn, AlwaysOff or TraceIDRatioBased, got '\(kind)'")
            }
            settings.parentBased = try sampling.bool("parent_based") ?? false
        }
        if let tls = try section.object("tls") {
            settings.tlsEnabled = try tls.bool("enable") ?? false
            if try tls.bool("insecure_skip_verify") == true {
                throw ConfigError.invalidField(file: file, field: tls.path("insecure_skip_verify"),
                                               reason: "is not supported by the exporter; give the collector's CA in ca_file instead")
            }
            settings.caFile = try tls.string("ca_file") ?? ""
            settings.certFile = try tls.string("cert_file") ?? ""
            settings.keyFile = try tls.string("key_file") ?? ""
            guard settings.certFile.isEmpty == settings.keyFile.isEmpty else {
                throw ConfigError.invalidField(file: file, field: tls.path(settings.certFile.isEmpty ? "cert_file" : "key_file"),
                                               reason: "a client certificate needs both cert_file and key_file")
            }
            tls.acknowledge("min_version", "max_version")
        }
        return settings
    }

    /// `host:port` (an IPv6 host in brackets), or nil.
    static func hostPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    private static func hostRules(_ root: ConfigReader, _ key: String, file: String) throws -> [String]? {
        guard let values = try root.array(key) else { return nil }
        return try values.enumerated().map { index, value in
            guard case .string(let rule) = value else {
                throw ConfigError.invalidField(file: file, field: "\(key)[\(index)]", reason: "must be a host, *.domain or CIDR string")
            }
            if let problem = PluginHTTPPolicy.invalidRule(rule) {
                throw ConfigError.invalidField(file: file, field: "\(key)[\(index)]", reason: problem)
            }
            return rule
        }
    }
}
