-- access_by_lua handlers for the nginx+Lua peers: the forum pre-hook logic on
-- a lua_shared_dict, or on Redis (one GET per request, a SET when renewing).
-- After the handler returns, nginx proxies the request to the upstream.
local forum = require("forum")

local M = { redis_port = 6379, redis_client = "own RESP client" }
local redis

-- Called from init_by_lua in the master: seeds the shared dict with a valid
-- session for the benchmark token and picks the Redis client.
function M.init(options)
    M.redis_port = options.redis_port or M.redis_port
    local ok, resty_redis = pcall(require, "resty.redis")
    if ok and options.prefer_resty ~= false then
        redis = {
            connect = function(host, port)
                local client = resty_redis:new()
                client:set_timeout(2000)
                local connected, err = client:connect(host, port)
                if not connected then return nil, err end
                return {
                    get = function(_, key)
                        local value, gerr = client:get(key)
                        if value == ngx.null then return nil end
                        return value, gerr
                    end,
                    set = function(_, key, value) return client:set(key, value) end,
                    keepalive = function() client:set_keepalive(10000, 128) end,
                }
            end,
        }
        M.redis_client = "resty.redis"
    else
        redis = require("resp")
    end
    local dict = ngx.shared.sessions
    if dict and options.token then
        dict:set(options.token, forum.new_session(options.token, os.time()))
    end
end

-- The presented token; a request without one ends here with 401.
local function token_or_401()
    local token = ngx.var.http_x_session_key
    if not token or token == "" then
        return ngx.exit(ngx.HTTP_UNAUTHORIZED)
    end
    return token
end

function M.shdict()
    local token = token_or_401()
    local dict = ngx.shared.sessions
    local renewed = forum.renewal(token, dict:get(token), ngx.time(), false)
    if renewed then
        dict:set(token, renewed)
    end
end

function M.redis(always)
    local token = token_or_401()
    local client, err = redis.connect("127.0.0.1", M.redis_port)
    if not client then
        ngx.log(ngx.ERR, "redis: ", err)
        return ngx.exit(503)
    end
    local key = "session:" .. token
    local stored, gerr = client:get(key)
    if gerr then
        ngx.log(ngx.ERR, "redis GET: ", gerr)
        return ngx.exit(503)
    end
    local renewed = forum.renewal(token, stored, ngx.time(), always)
    if renewed then
        local _, serr = client:set(key, renewed)
        if serr then
            ngx.log(ngx.ERR, "redis SET: ", serr)
            return ngx.exit(503)
        end
    end
    client:keepalive()
end

return M
