-- The forum renewal decision, shared by the nginx+Lua and HAProxy+Lua peers.
-- It mirrors plugins/forum-renewal.js: parse the stored session, and when it
-- is missing or `expires <= now` (expired, or in its last second), build a
-- new one with expires = now + ttl. Pure Lua plus lua-cjson, so it runs on
-- LuaJIT (nginx) and on Lua 5.3 (HAProxy) alike.
local cjson = require("cjson.safe")

local M = { ttl = 60, api_id = "forum-api", api_name = "forum" }

-- The session JSON the forum plugin writes on renewal.
function M.new_session(token, now)
    return cjson.encode({
        expires = now + M.ttl,
        quota_max = 1000,
        quota_remaining = 1000,
        quota_renewal_rate = M.ttl,
        alias = token,
        access_rights = {
            [M.api_id] = {
                api_name = M.api_name,
                api_id = M.api_id,
                versions = { "Default" },
                allowed_urls = cjson.null,
            },
        },
    })
end

-- Returns the session JSON to write back, or nil when the stored one is
-- still valid. `stored` is the raw JSON from the store (nil when absent).
-- With `always`, the stored session is still read and parsed, and a new one
-- is written every time.
function M.renewal(token, stored, now, always)
    local session = stored and cjson.decode(stored)
    local valid = type(session) == "table" and type(session.expires) == "number" and session.expires > now
    if valid and not always then
        return nil
    end
    return M.new_session(token, now)
end

return M
