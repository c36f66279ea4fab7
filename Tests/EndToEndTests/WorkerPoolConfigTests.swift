import Foundation
import PortcullisGateway
import Testing

/// `jsvm_workers`, `jsvm_max_workers` and `jsvm_worker_idle_seconds`: read from tyk.conf, checked, and
/// handed to the JavaScript engine.
@Suite("JavaScript worker pool settings")
struct WorkerPoolConfigTests {
    @Test("jsvm_max_workers is read, refused out of range with the field named, and reaches the engine; 0 means automatic")
    func maxWorkers() async throws {
        let (config, ignored) = try GatewayConfig.parse(#"{"jsvm_workers": 3, "jsvm_max_workers": 12}"#, file: "tyk.conf")
        #expect(config.jsvmWorkers == 3)
        #expect(config.jsvmMaxWorkers == 12)
        #expect(!ignored.contains("jsvm_max_workers"))
        #expect(try GatewayConfig.parse("{}", file: "tyk.conf").0.jsvmMaxWorkers == 0)
        #expect { try GatewayConfig.parse(#"{"jsvm_max_workers": 5000}"#, file: "conf/tyk.conf") } throws: { error in
            let text = "\(error)"
            return text.contains("jsvm_max_workers") && text.contains("conf/tyk.conf") && text.contains("5000")
        }

        let given = try await GatewayHarness.make(files: [:]) { $0.jsvmWorkers = 3; $0.jsvmMaxWorkers = 12 }
        #expect(given.gateway.services.engine.configuration.workerCount == 3)
        #expect(given.gateway.services.engine.configuration.maxWorkerCount == 12)
        await given.close()
        // Automatic: 16 per core, never fewer than the workers started.
        let automatic = try await GatewayHarness.make(files: [:]) { $0.jsvmWorkers = 200 }
        #expect(automatic.gateway.services.engine.configuration.maxWorkerCount
            == max(200, 16 * ProcessInfo.processInfo.activeProcessorCount))
        await automatic.close()
    }

    @Test("jsvm_worker_idle_seconds is read, refused out of range with the field named, and reaches the engine; 60 by default")
    func idleSeconds() async throws {
        let (config, ignored) = try GatewayConfig.parse(#"{"jsvm_worker_idle_seconds": 15.5}"#, file: "tyk.conf")
        #expect(config.jsvmWorkerIdleSeconds == 15.5)
        #expect(!ignored.contains("jsvm_worker_idle_seconds"))
        #expect(try GatewayConfig.parse("{}", file: "tyk.conf").0.jsvmWorkerIdleSeconds == 60)
        for bad in ["0", "0.5", "100000"] {
            #expect { try GatewayConfig.parse(#"{"jsvm_worker_idle_seconds": \#(bad)}"#, file: "conf/tyk.conf") } throws: { error in
                let text = "\(error)"
                return text.contains("jsvm_worker_idle_seconds") && text.contains("conf/tyk.conf")
            }
        }
        let given = try await GatewayHarness.make(files: [:]) { $0.jsvmWorkerIdleSeconds = 15.5 }
        #expect(given.gateway.services.engine.configuration.addedWorkerIdleSeconds == 15.5)
        await given.close()
    }

    @Test("jsvm_nested_calls is read, off by default, and reaches the engine")
    func nestedCalls() async throws {
        let (config, ignored) = try GatewayConfig.parse(#"{"jsvm_nested_calls": true}"#, file: "tyk.conf")
        #expect(config.jsvmNestedCalls)
        #expect(!ignored.contains("jsvm_nested_calls"))
        #expect(try !GatewayConfig.parse("{}", file: "tyk.conf").0.jsvmNestedCalls)
        #expect { try GatewayConfig.parse(#"{"jsvm_nested_calls": "yes"}"#, file: "conf/tyk.conf") } throws: { error in
            "\(error)".contains("jsvm_nested_calls") && "\(error)".contains("conf/tyk.conf")
        }
        let given = try await GatewayHarness.make(files: [:]) { $0.jsvmNestedCalls = true }
        #expect(given.gateway.services.engine.configuration.nestedCalls)
        await given.close()
        let plain = try await GatewayHarness.make(files: [:])
        #expect(!plain.gateway.services.engine.configuration.nestedCalls)
        await plain.close()
    }
}
