-- Requests that change from one to the next, from the environment:
--   BENCH_METHOD  the method (GET by default)
--   BENCH_PATHS   paths separated by "|", used in turn (e.g. several job ids)
--   BENCH_BODIES  JSON bodies, one per line; the next one after each pass over the paths, so each
--                 path gets them in turn (an update alternates a field on every job);
--                 "__N__" in a body becomes a number unique over all threads (unique job names)
--   BENCH_TOKEN   bearer token
--   BENCH_ACCEPT_ENCODING  reads: the Accept-Encoding a browser sends (wrk never decodes bodies)
local function split(value, pattern)
  local items = {}
  for item in string.gmatch(value or "", pattern) do
    items[#items + 1] = item
  end
  return items
end

local method = os.getenv("BENCH_METHOD") or "GET"
local paths = split(os.getenv("BENCH_PATHS"), "[^|]+")
local bodies = split(os.getenv("BENCH_BODIES"), "[^\n]+")
local headers = {}
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  headers["Authorization"] = "Bearer " .. token
end
local accept_encoding = os.getenv("BENCH_ACCEPT_ENCODING")
if accept_encoding and accept_encoding ~= "" then
  headers["Accept-Encoding"] = accept_encoding
end
if #bodies > 0 then
  headers["Content-Type"] = "application/json"
end

-- setup() runs in wrk's main Lua state, once per thread: number the threads.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local sent = 0
function request()
  sent = sent + 1
  local path = paths[(sent - 1) % #paths + 1]
  local body = nil
  if #bodies > 0 then
    body = bodies[math.floor((sent - 1) / #paths) % #bodies + 1]
    body = (body:gsub("__N__", thread_number .. "-" .. sent))
  end
  return wrk.format(method, path, headers, body)
end
