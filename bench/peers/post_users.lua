-- wrk script of the raw-capacity baseline (README.md, "Benchmarks"):
-- POST /Users with the body provisio sends, a unique userName per request.
--
--   BENCH_BODY_FILE=body.json BENCH_REQUESTS=10000 BENCH_TOKEN=t BENCH_PREFIX=w1- \
--     wrk -t1 -c4 -d120s -s bench/peers/post_users.lua http://127.0.0.1:PORT/Users
--
-- The body file holds one user as provisio POSTs it, with {{USERNAME}} where
-- the userName goes. After BENCH_REQUESTS answers the thread stops and prints
--   bench: answered=N created=N elapsed=SECONDS
-- (elapsed from the first request to the last answer, CLOCK_MONOTONIC);
-- the caller then ends wrk with SIGINT. Use one thread (-t1): the counter
-- giving unique names is per thread.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local limit = assert(tonumber(os.getenv("BENCH_REQUESTS")), "BENCH_REQUESTS")
local prefix = os.getenv("BENCH_PREFIX") or "wrk"
local f = assert(io.open(assert(os.getenv("BENCH_BODY_FILE"), "BENCH_BODY_FILE"), "rb"))
local template = f:read("*a")
f:close()
local at = assert(template:find("{{USERNAME}}", 1, true), "the body has no {{USERNAME}}")
local head, tail = template:sub(1, at - 1), template:sub(at + #"{{USERNAME}}")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/scim+json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or "")

local sent, answered, created, started = 0, 0, 0, nil

request = function()
  if not started then started = now() end
  sent = sent + 1
  return wrk.format(nil, nil, nil, head .. string.format("%s%07d", prefix, sent) .. tail)
end

response = function(status, headers, body)
  answered = answered + 1
  if status == 201 then created = created + 1 end
  if answered == limit then
    io.write(string.format("bench: answered=%d created=%d elapsed=%.6f\n", answered, created, now() - started))
    io.stdout:flush()
    wrk.thread:stop()
  end
end
