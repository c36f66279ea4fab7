-- HAProxy http-request action for the haproxy+Lua peer: the forum pre-hook
-- logic on a Lua table. Loaded with lua-load-per-thread, so each HAProxy
-- thread has its own table (HAProxy's single shared Lua state would put every
-- request behind one lock). The table is seeded with a valid session for the
-- token in BENCH_TOKEN. The action sets txn.forum to "ok" or "missing";
-- haproxy.cfg answers 401 unless it is "ok" and otherwise forwards upstream.
local forum = require("forum")

local store = {}
local seed = os.getenv("BENCH_TOKEN")
if seed and seed ~= "" then
    store[seed] = forum.new_session(seed, os.time())
end

core.register_action("forum", { "http-req" }, function(txn)
    local values = txn.http:req_get_headers()["x-session-key"]
    local token = values and values[0]
    if not token or token == "" then
        txn:set_var("txn.forum", "missing")
        return
    end
    local renewed = forum.renewal(token, store[token], os.time(), false)
    if renewed then
        store[token] = renewed
    end
    txn:set_var("txn.forum", "ok")
end)
