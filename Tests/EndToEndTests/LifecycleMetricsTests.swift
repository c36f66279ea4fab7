import Foundation
import PortcullisGateway
import PortcullisSessions
import Testing

/// `/metrics` after a scripted sequence: every token-lifecycle counter has
/// exactly the value the sequence implies.
@Suite("Lifecycle metrics")
struct LifecycleMetricsTests {
    /// Parses the exposition text into `name{labels}` → value.
    static func samples(_ text: String) -> [String: Double] {
        var result: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            result[String(line[..<space])] = value
        }
        return result
    }

    @Test("Keys created, renewed, expired-rejected, revoked; auth failures by reason; plugin histograms; store latency; cache ratio")
    func scriptedSequence() async throws {
        let h = try await GatewayHarness.make(files: [
            "apps/forum.json": Fixture.tokenAPI(id: "forum", listen: "/forum/", header: "x-session-key", pre: [("forumRenewal", "forum.js")]),
            "apps/plain.json": Fixture.tokenAPI(id: "plain", listen: "/plain/"),
            "forum.js": try Fixture.forumRenewal,
        ])
        defer { Task { await h.close() } }
        let now = h.now
        // 1 created by the admin API, 1 created by the plugin (missing key), 1 renewed by it.
        #expect(await h.createKey("known-key", Fixture.session(expires: now + 30, api: "plain")).status == 200)
        #expect(await h.send("/forum/x", headers: [("x-session-key", "new-key")]).status == 200)
        h.clock.advance(by: 120)
        #expect(await h.send("/forum/x", headers: [("x-session-key", "new-key")]).status == 200)
        // Auth failures: missing, not found, expired (twice), not granted.
        #expect(await h.send("/plain/x").status == 401)
        #expect(await h.send("/plain/x", headers: [("Authorization", "nobody")]).status == 403)
        #expect(await h.send("/plain/x", headers: [("Authorization", "known-key")]).status == 401)
        #expect(await h.send("/plain/x", headers: [("Authorization", "known-key")]).status == 401)
        #expect(await h.send("/plain/x", headers: [("Authorization", "new-key")]).status == 403)
        // A plain renewal through the admin API (expiry moved later) and a revocation.
        #expect(await h.send("/tyk/keys/known-key", method: "PUT", headers: [("x-tyk-authorization", GatewayHarness.secret)],
                             body: Fixture.session(expires: h.now + 600, api: "plain")).status == 200)
        #expect(await h.send("/plain/x", headers: [("Authorization", "known-key")]).status == 200)
        #expect(await h.send("/plain/x", headers: [("Authorization", "known-key")]).status == 200)
        #expect(await h.send("/tyk/keys/known-key", method: "DELETE", headers: [("x-tyk-authorization", GatewayHarness.secret)]).status == 200)

        let text = await h.send("/metrics").text
        let m = Self.samples(text)
        #expect(m["portcullis_keys_created_total"] == 2, "\(text)")
        #expect(m["portcullis_keys_renewed_total"] == 2)
        #expect(m["portcullis_keys_expired_rejected_total"] == 2)
        #expect(m["portcullis_keys_revoked_total"] == 1)
        #expect(m[#"portcullis_auth_failures_total{reason="missing"}"#] == 1)
        #expect(m[#"portcullis_auth_failures_total{reason="not_found"}"#] == 1)
        #expect(m[#"portcullis_auth_failures_total{reason="expired"}"#] == 2)
        #expect(m[#"portcullis_auth_failures_total{reason="not_granted"}"#] == 1)
        #expect(m[#"portcullis_requests_total{api_id="forum",code="200"}"#] == 2)
        #expect(m[#"portcullis_plugin_duration_seconds_count{api_id="forum",plugin="forumRenewal"}"#] == 2)
        #expect(m[#"portcullis_plugin_duration_seconds_bucket{api_id="forum",plugin="forumRenewal",le="+Inf"}"#] == 2)
        #expect((m[#"portcullis_plugin_duration_seconds_sum{api_id="forum",plugin="forumRenewal"}"#] ?? 0) > 0)
        #expect((m[#"portcullis_store_latency_seconds_count{operation="write"}"#] ?? 0) >= 4)
        #expect((m[#"portcullis_store_latency_seconds_count{operation="read"}"#] ?? 0) >= 1)
        // The second of two back-to-back valid lookups of known-key is a cache hit.
        let hits = m["portcullis_session_cache_hits_total"] ?? 0
        let misses = m["portcullis_session_cache_misses_total"] ?? 0
        #expect(hits >= 1, "\(text)")
        #expect(misses >= 1)
        #expect(m["portcullis_session_cache_hit_ratio"] == hits / (hits + misses))
    }
}
