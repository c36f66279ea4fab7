// js_content handler for the nginx+njs peer: the forum pre-hook logic of
// plugins/forum-renewal.js, then an internal redirect to the proxy location.
//
// njs 0.7 (Debian 12) has no shared dictionaries (ngx.shared arrived in njs
// 0.8.0), and every request runs in its own copy of the module's VM, so the
// store is a module-level object seeded when nginx loads the module: each
// request reads, parses and (when needed) renews the session in it, but a
// write lasts only for that request. The token comes from BENCH_TOKEN.

var TTL = 60;
var API_ID = "forum-api";

function nowSeconds() {
    return Math.floor(Date.now() / 1000);
}

function newSession(token, now) {
    var rights = {};
    rights[API_ID] = {
        api_name: "forum",
        api_id: API_ID,
        versions: ["Default"],
        allowed_urls: null
    };
    return JSON.stringify({
        expires: now + TTL,
        quota_max: 1000,
        quota_remaining: 1000,
        quota_renewal_rate: TTL,
        alias: token,
        access_rights: rights
    });
}

var store = {};
var seedToken = process.env.BENCH_TOKEN;
if (seedToken) {
    store[seedToken] = newSession(seedToken, nowSeconds());
}

function forum(r) {
    var token = r.headersIn["x-session-key"];
    if (!token) {
        r.return(401, '{"error": "Authorization field missing"}\n');
        return;
    }
    var now = nowSeconds();
    var raw = store[token];
    var session = raw ? JSON.parse(raw) : null;
    if (!session || !(session.expires > now)) {
        store[token] = newSession(token, now);
    }
    r.internalRedirect("@upstream");
}

export default { forum };
