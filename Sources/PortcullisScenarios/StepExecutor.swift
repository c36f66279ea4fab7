import Foundation
import PortcullisCore

/// Runs the steps of one scenario against a target and checks what comes back.
struct StepExecutor {
    let target: any ScenarioTarget
    let scenario: Scenario
    /// Log position when the last non-log step began: `expect_log` searches from here.
    private var logMark = 0

    init(target: any ScenarioTarget, scenario: Scenario) {
        self.target = target
        self.scenario = scenario
    }

    mutating func run(_ step: ScenarioStep) async throws {
        if case .expectLog = step.action {} else { logMark = (try? target.logMark()) ?? 0 }
        switch step.action {
        case .writeKey(let write):
            try await writeKey(write)
        case .deleteKey(let key, let via, let node):
            if via == .store {
                try await target.deleteDirect(key: key)
            } else {
                let answer = try await admin("DELETE", key: key, body: nil, node: node)
                guard answer.status == 200 else { throw StepFailed(message: "the admin API refused to delete the key: \(Self.summary(answer))") }
            }
        case .request(let spec, let expectation, let count, let concurrent):
            try await request(spec, expectation, count: count, concurrent: concurrent)
        case .advance(let seconds):
            try await target.advance(seconds: seconds)
        case .store(let fault):
            try await target.setStore(fault)
        case .expectSession(let expectation):
            try await expectSession(expectation)
        case .expectLog(let expectation):
            try expectLog(expectation)
        case .reload(let node):
            let answer = try await target.send(method: "GET", path: "/tyk/reload", headers: [("x-tyk-authorization", target.adminSecret)],
                                               body: [], node: node)
            guard answer.status == 200 else { throw StepFailed(message: "reload failed: \(Self.summary(answer))") }
        case .setPolicies(let policies):
            let refused = try await target.replacePolicies(target.templates().resolve(policies).jsonString())
            guard refused.isEmpty else { throw StepFailed(message: "the gateway refused policies: \(refused.joined(separator: "; "))") }
        }
    }

    // MARK: Keys

    private func writeKey(_ write: KeyWrite) async throws {
        let session = target.templates().resolve(write.session).jsonString()
        if write.via == .store {
            try await target.writeDirect(key: write.key, sessionJSON: session)
            return
        }
        let answer = try await admin(write.isUpdate ? "PUT" : "POST", key: write.key, body: session, node: write.node,
                                     query: write.suppressReset ? "?suppress_reset=1" : "")
        guard answer.status == 200 else {
            throw StepFailed(message: "the admin API refused the session: \(Self.summary(answer))")
        }
    }

    private func admin(_ method: String, key: String, body: String?, node: String?, query: String = "") async throws -> Exchange {
        let encoded = key.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? key
        var headers = [("x-tyk-authorization", target.adminSecret)]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        return try await target.send(method: method, path: "/tyk/keys/" + encoded + query, headers: headers, body: Array((body ?? "").utf8), node: node)
    }

    // MARK: Requests

    private func request(_ spec: RequestSpec, _ expectation: ResponseExpectation, count: Int, concurrent: Bool) async throws {
        let templates = target.templates()
        let path = templates.resolveText(spec.path)
        let headers = spec.headers.map { ($0.0, templates.resolveText($0.1)) }
        let body = Array(templates.resolveText(spec.body).utf8)
        var answers: [Exchange] = []
        if concurrent {
            let target = self.target
            answers = try await withThrowingTaskGroup(of: Exchange.self) { group in
                for _ in 0..<count {
                    group.addTask { try await target.send(method: spec.method, path: path, headers: headers, body: body, node: spec.node) }
                }
                var collected: [Exchange] = []
                for try await answer in group { collected.append(answer) }
                return collected
            }
        } else {
            for _ in 0..<count {
                answers.append(try await target.send(method: spec.method, path: path, headers: headers, body: body, node: spec.node))
            }
        }
        var failed: [String] = []
        for (offset, answer) in answers.enumerated() {
            if let problem = Self.check(answer, against: expectation, templates: target.templates()) {
                failed.append(count > 1 ? "response \(offset + 1) of \(count): \(problem)" : problem)
            }
        }
        guard let first = failed.first else { return }
        let more = failed.count > 1 ? " (\(failed.count) of \(count) responses failed)" : ""
        throw StepFailed(message: first + more)
    }

    /// nil when `answer` meets `expectation`.
    static func check(_ answer: Exchange, against expectation: ResponseExpectation, templates: TemplateContext) -> String? {
        if let status = expectation.status, let problem = status.mismatch(.int(Int64(answer.status)), templates: templates) {
            return "status: \(problem) — body \(snippet(answer.bodyText))"
        }
        if let body = expectation.body {
            let wanted = templates.resolveText(body)
            if answer.bodyText != wanted { return "body: expected \(snippet(wanted)), got \(snippet(answer.bodyText))" }
        }
        for text in expectation.bodyContains {
            let wanted = templates.resolveText(text)
            if !answer.bodyText.contains(wanted) { return "body: expected it to contain \(snippet(wanted)), got \(snippet(answer.bodyText))" }
        }
        if !expectation.json.isEmpty {
            guard let parsed = try? JSONValue(parsing: answer.bodyText) else {
                return "body: expected JSON, got \(snippet(answer.bodyText))"
            }
            for (path, matcher) in expectation.json {
                if let problem = matcher.mismatch(ValueMatcher.lookup(path, in: parsed), templates: templates) {
                    return "json '\(path)': \(problem)"
                }
            }
        }
        for (name, matcher) in expectation.headers {
            if let problem = matcher.mismatch(answer.header(name).map(JSONValue.string), templates: templates) {
                return "header '\(name)': \(problem)"
            }
        }
        return nil
    }

    // MARK: Sessions and logs

    private func expectSession(_ expectation: SessionExpectation) async throws {
        let text: String?
        switch expectation.via {
        case .admin:
            let answer = try await admin("GET", key: expectation.key, body: nil, node: expectation.node)
            switch answer.status {
            case 200: text = answer.bodyText
            case 404: text = nil
            default: throw StepFailed(message: "the admin API could not read the key: \(Self.summary(answer))")
            }
        case .plugin:
            let answer = try await target.pluginKeyData(key: expectation.key, apiID: expectation.apiID, node: expectation.node)
            let parsed = try? JSONValue(parsing: answer)
            text = parsed.flatMap { ValueMatcher.lookup("status", in: $0) } == .string("error") ? nil : answer
        case .store:
            text = try await target.readDirect(key: expectation.key)
        }
        let source = "(read via \(expectation.via.rawValue))"
        guard let text else {
            if expectation.missing { return }
            throw StepFailed(message: "session '\(expectation.key)': expected it to exist, but it was not found \(source)")
        }
        if expectation.missing {
            throw StepFailed(message: "session '\(expectation.key)': expected it to be missing, got \(Self.snippet(text)) \(source)")
        }
        guard let session = try? JSONValue(parsing: text) else {
            throw StepFailed(message: "session '\(expectation.key)' is not JSON: \(Self.snippet(text)) \(source)")
        }
        let templates = target.templates()
        for (path, matcher) in expectation.fields {
            if let problem = matcher.mismatch(ValueMatcher.lookup(path, in: session), templates: templates) {
                throw StepFailed(message: "session '\(expectation.key)' field '\(path)': \(problem) \(source)")
            }
        }
    }

    private func expectLog(_ expectation: LogExpectation) throws {
        let lines = try target.logLines(since: logMark)
        let matches = lines.filter { line in
            line.text.contains(expectation.contains) && (expectation.level.map { "\(line.level)" == $0.lowercased() } ?? true)
        }
        let level = expectation.level.map { " at level \($0)" } ?? ""
        if expectation.absent, let found = matches.first {
            throw StepFailed(message: "log: expected no line containing \"\(expectation.contains)\"\(level), got [\(found.node)] \(found.level) \(found.text)")
        }
        if !expectation.absent && matches.isEmpty {
            let recent = lines.suffix(5).map { "[\($0.node)] \($0.level) \($0.text)" }.joined(separator: " | ")
            throw StepFailed(message: "log: expected a line containing \"\(expectation.contains)\"\(level) during the previous step, got "
                + (lines.isEmpty ? "no lines" : "\(lines.count) other line(s), last: \(recent)"))
        }
    }

    // MARK: Formatting

    static func summary(_ answer: Exchange) -> String {
        "status \(answer.status), body \(snippet(answer.bodyText))"
    }

    static func snippet(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ")
        return "'" + (flat.count > 240 ? String(flat.prefix(240)) + "…" : flat) + "'"
    }
}
