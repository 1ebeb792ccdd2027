-- wrk request generator of the benchmark harness (scripts/bench/run.ts drives it).
--
--   wrk -t1 -c32 -d5s -s scripts/bench/wrk.lua http://127.0.0.1:8000 -- <workload> <models> <versions> <teams> <run-tag>
--
-- Every request names a different model / version / tag value, chosen at random over the seeded
-- dataset (scripts/bench/dataset.ts: model-000001.., versions 1..V, run ids run<29 digits>, tag
-- team=team-<k>, alias champion). Writes use names unique to this run (<run-tag>), so cells never
-- collide. At the end one line `BENCH_JSON {...}` carries the counts and latency percentiles (µs).

local API = "/api/2.0/mlflow"
local JSON = { ["Content-Type"] = "application/json" }

local workload, models, versions, teams, runtag
local counter = 0
thread_id = 0 -- global: setup() sets it per thread

local next_thread = 0
function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_id", next_thread)
end

function init(args)
  workload = args[1] or "get_rm"
  models = tonumber(args[2] or "1000")
  versions = tonumber(args[3] or "5")
  teams = tonumber(args[4] or "20")
  runtag = args[5] or "x"
  math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919 + math.floor(os.clock() * 1e6))
end

local function model() return string.format("model-%06d", math.random(models)) end

-- base64 of MLflow's page token `{"offset": N}` (Python json.dumps spacing).
local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1 = math.floor(n / 262144) % 64
    local c2 = math.floor(n / 4096) % 64
    local c3 = math.floor(n / 64) % 64
    local c4 = n % 64
    out[#out + 1] = B64:sub(c1 + 1, c1 + 1) .. B64:sub(c2 + 1, c2 + 1)
      .. (b and B64:sub(c3 + 1, c3 + 1) or "=") .. (c and B64:sub(c4 + 1, c4 + 1) or "=")
  end
  return table.concat(out)
end
local function urlenc(s)
  return (s:gsub("[^%w%-%._~]", function(ch) return string.format("%%%02X", ch:byte()) end))
end

local PAGE = 10
local PAGES = 5
local TOKENS = {}
for p = 1, PAGES - 1 do TOKENS[p] = urlenc(b64(string.format('{"offset": %d}', p * PAGE))) end

local reads = {
  get_rm = function()
    return wrk.format("GET", API .. "/registered-models/get?name=" .. model())
  end,
  -- tag filter + pagination: one of the first PAGES pages of one team's models (offset 0 = no token,
  -- MLflow refuses a token for offset 0).
  search_rm_tag = function()
    local filter = urlenc(string.format("tags.team = 'team-%d'", math.random(teams) - 1))
    local page = math.random(PAGES) - 1
    local path = API .. "/registered-models/search?filter=" .. filter .. "&max_results=" .. PAGE
    if page > 0 then path = path .. "&page_token=" .. TOKENS[page] end
    return wrk.format("GET", path)
  end,
  get_mv = function()
    return wrk.format("GET", API .. "/model-versions/get?name=" .. model() .. "&version=" .. math.random(versions))
  end,
  search_mv_run = function()
    local run = string.format("run%029d", math.random(models) * 100 + math.random(versions))
    return wrk.format("GET", API .. "/model-versions/search?filter=" .. urlenc("run_id = '" .. run .. "'"))
  end,
  latest = function()
    return wrk.format("GET", API .. "/registered-models/get-latest-versions?name=" .. model())
  end,
  alias = function()
    return wrk.format("GET", API .. "/registered-models/alias?name=" .. model() .. "&alias=champion")
  end,
}

local writes = {
  create_rm = function()
    counter = counter + 1
    local body = string.format('{"name":"bench-%s-%d-%d","tags":[{"key":"team","value":"team-%d"}]}',
      runtag, thread_id, counter, math.random(teams) - 1)
    return wrk.format("POST", API .. "/registered-models/create", JSON, body)
  end,
  create_mv = function()
    counter = counter + 1
    local body = string.format(
      '{"name":"%s","source":"s3://bench-artifacts/new/%s/%d/%d","run_id":"%s%023d","tags":[{"key":"stage","value":"candidate"}]}',
      model(), runtag, thread_id, counter, string.sub(runtag .. "bbbbbbbbb", 1, 9), counter)
    return wrk.format("POST", API .. "/model-versions/create", JSON, body)
  end,
  set_tag = function()
    counter = counter + 1
    local body = string.format('{"name":"%s","key":"bench.touched","value":"%s-%d"}', model(), runtag, counter)
    return wrk.format("POST", API .. "/registered-models/set-tag", JSON, body)
  end,
}

local READ_LIST = { reads.get_rm, reads.search_rm_tag, reads.get_mv, reads.search_mv_run, reads.latest, reads.alias }
local WRITE_LIST = { writes.create_rm, writes.create_mv, writes.set_tag }

local function mixed()
  if math.random() < 0.9 then return READ_LIST[math.random(#READ_LIST)]() end
  return WRITE_LIST[math.random(#WRITE_LIST)]()
end

function request()
  local f = reads[workload] or writes[workload]
  if f then return f() end
  if workload == "mixed" then return mixed() end
  error("unknown workload " .. tostring(workload))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p95":%d,"p99":%d,"p999":%d,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency:percentile(99.9), latency.max))
end
