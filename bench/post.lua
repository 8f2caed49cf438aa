-- wrk: each thread posts the bodies of its own file, in order, on its own connection (run wrk
-- with as many connections as threads, so a lane's events arrive in the order it made them).
-- args: the folder of the files; a file is the token on its first line, then a body per line.
-- done() prints one JSON line: requests, non-200 answers, events accepted, duplicate and
-- refused (counted in the answers), whether a thread ran out of bodies, latency in us, and
-- the answers each connection got (is every device served alike?).

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(args[1] .. "/" .. id .. ".txt"))
  local token = f:read("*l")
  bodies = {}
  for line in f:lines() do bodies[#bodies + 1] = line end
  f:close()
  wrk.method = "POST"
  wrk.path = args[2]
  wrk.headers["Content-Type"] = "application/json"
  if token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
  bad, accepted, duplicate, refused, exhausted, answered = 0, 0, 0, 0, 0, 0
  first = ""
end

-- The next body is the one after the last answered (one request at a time on a connection):
-- wrk asks one thread's script for a request it never sends, to check the script, so a body
-- counted when asked for would be skipped on that thread and sent twice on the others (each
-- connection but one sent its first event twice, answered as a duplicate).
function request()
  if answered >= #bodies then
    exhausted = 1
    wrk.thread:stop()
    return wrk.format(nil, nil, nil, bodies[#bodies])
  end
  return wrk.format(nil, nil, nil, bodies[answered + 1])
end

local function count(body, word)
  local _, k = string.gsub(body, '"status": ?"' .. word .. '"', "")
  return k
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 then
    bad = bad + 1
    return
  end
  accepted = accepted + count(body, "accepted")
  duplicate = duplicate + count(body, "duplicate")
  local r = count(body, "rejected")
  if r > 0 and first == "" then
    local at = string.find(body, '"rejected"', 1, true)
    first = string.sub(body, math.max(1, at - 60), at + 240)
  end
  refused = refused + r
end

function done(summary, latency, requests)
  local total = {bad = 0, accepted = 0, duplicate = 0, refused = 0, exhausted = 0}
  local example = ""
  local answers = {}
  for _, thread in ipairs(threads) do
    for k, _ in pairs(total) do total[k] = total[k] + thread:get(k) end
    if example == "" then example = thread:get("first") end
    answers[#answers + 1] = tostring(thread:get("answered"))
  end
  io.write(example:gsub("\n", " "), "\n")
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "bad": %d, "accepted": %d, "duplicate": %d, ' ..
    '"refused": %d, "exhausted": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"answers": [%s]}\n',
    summary.requests, summary.duration / 1e6, total.bad, total.accepted, total.duplicate,
    total.refused, total.exhausted, latency:percentile(50), latency:percentile(99), latency.max,
    table.concat(answers, ", ")))
end
