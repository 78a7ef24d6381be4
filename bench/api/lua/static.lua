-- One fixed request, built once per thread and replayed (wrk's cheapest mode). All from the
-- environment, all optional: BENCH_METHOD, BENCH_PATH, BENCH_BODY (JSON), BENCH_TOKEN (bearer).
wrk.method = os.getenv("BENCH_METHOD") or "GET"
wrk.path = os.getenv("BENCH_PATH") or wrk.path

local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
