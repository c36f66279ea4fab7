-- A minimal Redis client over ngx.socket.tcp, speaking RESP: enough for the
-- GET and SET the nginx+Lua peer needs. Connections go back to nginx's
-- per-worker keepalive pool after each request.
local M = {}
local Client = {}
Client.__index = Client

function M.connect(host, port)
    local sock = ngx.socket.tcp()
    sock:settimeout(2000)
    local ok, err = sock:connect(host, port)
    if not ok then
        return nil, "connect: " .. tostring(err)
    end
    return setmetatable({ sock = sock }, Client)
end

-- Sends one command and reads one reply: bulk strings (nil for a missing
-- key), simple strings and integers. An error reply returns nil, message.
function Client:command(...)
    local args = { ... }
    local out = { "*" .. #args .. "\r\n" }
    for i = 1, #args do
        local arg = tostring(args[i])
        out[#out + 1] = "$" .. #arg .. "\r\n" .. arg .. "\r\n"
    end
    local sock = self.sock
    local _, err = sock:send(table.concat(out))
    if err then return nil, "send: " .. err end
    local line, rerr = sock:receive("*l")
    if not line then return nil, "receive: " .. tostring(rerr) end
    local kind, rest = line:sub(1, 1), line:sub(2)
    if kind == "$" then
        local size = tonumber(rest)
        if size < 0 then return nil end
        local data, derr = sock:receive(size + 2)
        if not data then return nil, "receive: " .. tostring(derr) end
        return data:sub(1, size)
    elseif kind == "+" then
        return rest
    elseif kind == ":" then
        return tonumber(rest)
    end
    return nil, "redis: " .. rest
end

function Client:get(key) return self:command("GET", key) end
function Client:set(key, value) return self:command("SET", key, value) end
function Client:keepalive() self.sock:setkeepalive(10000, 128) end

return M
