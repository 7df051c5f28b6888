-- wrk script: the peers' SNS CloudWatch-alarm notification (../shared/bench/peers/sns.lua:
-- same body, same SNS headers, same summary line), except that every request is a new
-- notification, so each one is a new inbox row (persistence + dedup check) instead of a
-- dedup hit. opsbot's dedup key of an alarm message is the alarm ARN + StateChangeTime +
-- NewStateValue (the same whichever path delivers it, bot/notify/event.rs), so each request
-- gets its own StateChangeTime (a year per wrk run and thread, time of day = request
-- counter in milliseconds) and its own MessageId ("<start time>-<thread>-...-<counter>"); both keep
-- their length, so the body keeps its exact size.
-- The body file comes from $PEERBENCH_BODY.
local path = os.getenv("PEERBENCH_BODY") or "payload/sns-cloudwatch-alarm.json"
local f = assert(io.open(path, "rb"))
local body = f:read("*a")
f:close()

local id0, time0 = "b1f3c2d4-5e6f-5a7b-8c9d-0e1f2a3b4c5d", "2024-05-14T09:21:47.268+0000"
local at_id = assert(string.find(body, id0, 1, true), "the payload's MessageId is not where expected")
local at_time = assert(string.find(body, time0, 1, true), "the payload's StateChangeTime is not where expected")
assert(at_id < at_time, "MessageId must come before the Message in the payload")
local head = string.sub(body, 1, at_id - 1)
local middle = string.sub(body, at_id + #id0, at_time - 1)
local tail = string.sub(body, at_time + #time0)

wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain; charset=UTF-8"
wrk.headers["User-Agent"] = "Amazon Simple Notification Service Agent"
wrk.headers["Accept-Encoding"] = "gzip,deflate"
wrk.headers["x-amz-sns-message-type"] = "Notification"
wrk.headers["x-amz-sns-topic-arn"] = "arn:aws:sns:eu-west-1:123456789012:prod-ops-alarms"
wrk.headers["x-amz-sns-subscription-arn"] =
  "arn:aws:sns:eu-west-1:123456789012:prod-ops-alarms:0c7a3f4e-1b2d-4c5e-9f80-7a6b5c4d3e2f"

-- each wrk thread gets its own number (setup runs once per thread, in the main state)
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

-- tid is set by setup() in this thread's own Lua state; the thread's start time keeps
-- ids unique across runs against the same store
local counter, started, year = 0, 0, 0
init = function(args)
  started = os.time() % 0x100000000
  -- a year of its own per wrk run (start second) and thread: the warm-up run and the
  -- measured run (seconds apart, counters both from 1) must not repeat each other's keys
  year = 1970 + (started % 25) * 8 + (tid or 0) % 8
end
request = function()
  counter = counter + 1
  local t = tid or 0
  local id = string.format("%08x-%04x-4000-8000-%012x", started, t, counter)
  local ms = counter % 86400000
  local floor = math.floor -- wrk's LuaJIT is Lua 5.1: no // operator
  local time = string.format("%04d-05-14T%02d:%02d:%02d.%03d+0000", year, floor(ms / 3600000),
    floor(ms / 60000) % 60, floor(ms / 1000) % 60, ms % 1000)
  return wrk.format(nil, nil, nil, head .. id .. middle .. time .. tail)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "PEERBENCH requests=%d duration_us=%d bytes=%d err_connect=%d err_read=%d err_write=%d " ..
    "err_status=%d err_timeout=%d p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d mean_us=%.1f\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
