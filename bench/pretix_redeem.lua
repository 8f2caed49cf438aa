-- wrk: each thread is one scanner at pretix's door, redeeming the tickets of its own file in
-- order on its own connection, one request at a time (run wrk with as many connections as
-- threads). args: the folder of the files, the path of the redeem endpoint, the API token, the
-- check-in list's id. A file holds one ticket secret a line; a thread that runs out stops.
-- done() prints one JSON line: requests, answers with status "ok", other answers (and the
-- first of them, to say why), whether a thread ran out of tickets, and latency in us.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(args[1] .. "/" .. id .. ".txt"))
  secrets = {}
  for line in f:lines() do secrets[#secrets + 1] = line end
  f:close()
  wrk.method = "POST"
  wrk.path = args[2]
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Token " .. args[3]
  list = args[4]
  n, ok, failed, exhausted = 0, 0, 0, 0
  first = ""
end

function request()
  n = n + 1
  if n > #secrets then
    exhausted = 1
    n = #secrets
    wrk.thread:stop()
  end
  return wrk.format(nil, nil, nil,
    '{"secret": "' .. secrets[n] .. '", "lists": [' .. list .. '], "type": "entry"}')
end

function response(status, headers, body)
  if string.find(body, '^{"status": ?"ok"') then
    ok = ok + 1
    return
  end
  failed = failed + 1
  if first == "" then first = status .. " " .. string.sub(body, 1, 300) end
end

function done(summary, latency, requests)
  local total = {ok = 0, failed = 0, exhausted = 0}
  local example = ""
  for _, thread in ipairs(threads) do
    for k, _ in pairs(total) do total[k] = total[k] + thread:get(k) end
    if example == "" then example = thread:get("first") end
  end
  io.write(example:gsub("\n", " "), "\n")
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "ok": %d, "failed": %d, "exhausted": %d, ' ..
    '"p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration / 1e6, total.ok, total.failed, total.exhausted,
    latency:percentile(50), latency:percentile(99), latency.max))
end
