-- wrk script for the soak: every request carries one of the soak keys in the
-- auth header, taken round-robin (each thread starts at its own offset), and
-- every response is counted by status code. done() prints machine-readable
-- lines that soak/run.sh parses:
--
--   SOAK requests <n>            SOAK duration_us <n>
--   SOAK status <code> <n>       SOAK errors <connect> <read> <write> <timeout> <status>
--   SOAK p50_us <n>              SOAK p99_us <n>       SOAK max_us <n>
--   SOAK sample <code> <time> <body>   (up to 3 non-2xx responses per thread,
--                                       with the UTC time they arrived)
--
-- Arguments after "--" on the wrk command line: key count, key prefix, header.
--   wrk ... -s soak/keys.lua http://127.0.0.1:PORT/soak/ping -- 200 soak- x-session-key

local threads = {}

function setup(thread)
   thread:set("thread_number", #threads)
   table.insert(threads, thread)
end

local keys = {}
local position = 1
local header = "x-session-key"
counts = {}
samples = {}
sample_count = 0

function init(args)
   local total = tonumber(args[1]) or 200
   local prefix = args[2] or "soak-"
   header = args[3] or header
   for i = 0, total - 1 do
      keys[#keys + 1] = prefix .. i
   end
   -- spread the threads over the keyspace so the two nodes see the same keys
   -- at different moments as well as at the same moment
   position = ((thread_number or 0) * 61) % #keys + 1
end

function request()
   local key = keys[position]
   position = position % #keys + 1
   return wrk.format(nil, nil, { [header] = key })
end

function response(status, headers, body)
   counts[status] = (counts[status] or 0) + 1
   if (status < 200 or status > 299) and sample_count < 3 then
      sample_count = sample_count + 1
      local text = body or ""
      text = text:gsub("[\r\n]+", " "):sub(1, 200)
      samples[sample_count] = status .. " " .. os.date("!%H:%M:%S") .. " " .. text
   end
end

function done(summary, latency, requests)
   local total = {}
   local lines = {}
   for _, thread in ipairs(threads) do
      local c = thread:get("counts") or {}
      for code, n in pairs(c) do
         total[code] = (total[code] or 0) + n
      end
      local s = thread:get("samples") or {}
      for _, line in pairs(s) do
         lines[#lines + 1] = line
      end
   end
   io.write(string.format("SOAK requests %d\n", summary.requests))
   io.write(string.format("SOAK duration_us %d\n", summary.duration))
   io.write(string.format("SOAK errors %d %d %d %d %d\n", summary.errors.connect, summary.errors.read,
      summary.errors.write, summary.errors.timeout, summary.errors.status))
   local codes = {}
   for code in pairs(total) do codes[#codes + 1] = code end
   table.sort(codes)
   for _, code in ipairs(codes) do
      io.write(string.format("SOAK status %d %d\n", code, total[code]))
   end
   io.write(string.format("SOAK p50_us %d\n", latency:percentile(50)))
   io.write(string.format("SOAK p99_us %d\n", latency:percentile(99)))
   io.write(string.format("SOAK max_us %d\n", latency.max))
   for _, line in ipairs(lines) do
      io.write("SOAK sample " .. line .. "\n")
   end
end
