-- One MCP POST, repeated on every connection, for wrk (bench/run drives it; see bench/README.md).
--
-- The request comes from the environment, so that bench/lib/messages.py stays the one place the
-- benchmark's messages are written:
--   BENCH_BODY     JSON-RPC body; "__ID__" is replaced by the request id
--   BENCH_HEADERS  request headers, one "Name: value" per line
--   BENCH_ID_MODE  "fixed" (every request has id 1: the static upstream answers fixed bodies) or
--                  "counter" (ids 1, 2, 3, ... per thread: a real MCP server needs distinct ids)
--   BENCH_DELAY_MS optional: each connection waits this long (on average; wrk's delay() counts whole
--                  milliseconds, so the fraction is dithered) before each request, for a fixed
--                  offered load below the peak
--   BENCH_OUT      file that done() writes the JSON summary to (with p99.9, which wrk's own
--                  --latency report does not print)

local body = os.getenv("BENCH_BODY") or error("BENCH_BODY not set")
local mode = os.getenv("BENCH_ID_MODE") or "fixed"

wrk.method = "POST"
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
   local name, value = line:match("^([^:]+):%s*(.*)$")
   if name then wrk.headers[name] = value end
end

if mode == "fixed" then
   wrk.body = (body:gsub("__ID__", "1"))
else
   local n = 0
   request = function()
      n = n + 1
      return wrk.format(nil, nil, nil, (body:gsub("__ID__", tostring(n))))
   end
end

local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if delay_ms and delay_ms > 0 then
   local whole = math.floor(delay_ms)
   local fraction = delay_ms - whole
   delay = function()
      if math.random() < fraction then return whole + 1 end
      return whole
   end
end

done = function(summary, latency, requests)
   local out = os.getenv("BENCH_OUT")
   if not out then return end
   local e = summary.errors
   local f = assert(io.open(out, "w"))
   f:write(string.format(
      '{"duration_us":%d,"requests":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,' ..
      '"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p99.9":%d}}\n',
      summary.duration, summary.requests, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency.stdev, latency.max,
      latency:percentile(50), latency:percentile(75), latency:percentile(90),
      latency:percentile(99), latency:percentile(99.9)))
   f:close()
end
