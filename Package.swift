// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Portcullis",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "portcullis", targets: ["portcullis"]),
        .library(name: "PortcullisJS", targets: ["PortcullisJS"]),
        .library(name: "PortcullisSessions", targets: ["PortcullisSessions"]),
        .library(name: "PortcullisGateway", targets: ["PortcullisGateway"]),
        .library(name: "PortcullisScenarios", targets: ["PortcullisScenarios"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/ordo-one/malloc-interposer", from: "1.6.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0"),
    ],
    targets: [
        // JavaScriptCore (GTK build) C API, found through pkg-config.
        .systemLibrary(
            name: "CJavaScriptCore",
            pkgConfig: "javascriptcoregtk-4.1",
            providers: [.apt(["libjavascriptcoregtk-4.1-dev"])]
        ),
        // Small value types shared by every layer: clock, JSON values, key masking.
        .target(name: "PortcullisCore"),
        // The JS engine: worker pool, Tyk prelude, bindings, limits, error mapping.
        .target(
            name: "PortcullisJS",
            dependencies: [
                "CJavaScriptCore",
                "PortcullisCore",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Sessions, stores (memory, Redis) and the consistency contract.
        .target(
            name: "PortcullisSessions",
            dependencies: [
                "PortcullisCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // The gateway: wires JS bindings to real stores and the network.
        .target(
            name: "PortcullisGateway",
            dependencies: [
                "PortcullisCore",
                "PortcullisJS",
                "PortcullisSessions",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
            ]
        ),
        // Scenario files, the runner on a virtual clock, reports.
        .target(
            name: "PortcullisScenarios",
            dependencies: [
                "PortcullisCore",
                "PortcullisSessions",
                "PortcullisGateway",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "portcullis",
            dependencies: [
                "PortcullisCore",
                "PortcullisJS",
                "PortcullisGateway",
                "PortcullisScenarios",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // `make bench`: microbenchmarks of the engine, bindings, sessions per store, RESP, JSON.
        .executableTarget(
            name: "MicroBench",
            dependencies: [
                "PortcullisJS", "PortcullisCore", "PortcullisSessions", "PortcullisGateway", "PortcullisScenarios",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            path: "Benchmarks/MicroBench"
        ),
        // A Swift program that embeds the gateway (docs/embedding.md).
        .executableTarget(
            name: "PortcullisEmbeddingExample",
            dependencies: [
                "PortcullisGateway", "PortcullisSessions",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            path: "examples/embedding"
        ),
        .testTarget(name: "PortcullisCoreTests", dependencies: ["PortcullisCore"]),
        // Runs the built `portcullis` binary and, later, whole gateways over real sockets.
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "portcullis", "PortcullisGateway", "PortcullisSessions", "PortcullisCore", "PortcullisTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // Real servers for tests: an HTTP upstream on loopback, redis-server on a free port.
        .target(
            name: "PortcullisTestSupport",
            dependencies: [
                "PortcullisScenarios",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Tests/PortcullisTestSupport"
        ),
        .testTarget(
            name: "PortcullisScenariosTests",
            dependencies: ["PortcullisScenarios", "PortcullisGateway", "PortcullisCore", "PortcullisTestSupport"]
        ),
        .testTarget(
            name: "PortcullisJSTests",
            dependencies: ["PortcullisJS", "PortcullisCore", "PortcullisGateway", "PortcullisTestSupport"]
        ),
        // Bounded property-based fuzzing of the session JSON decoder, the
        // config and API definition parsers, and the RESP parser.
        .testTarget(
            name: "PortcullisFuzzTests",
            dependencies: [
                "PortcullisSessions",
                "PortcullisGateway",
                "PortcullisCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "PortcullisSessionsTests",
            dependencies: [
                "PortcullisSessions",
                "PortcullisTestSupport",
                "PortcullisCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ]
)
