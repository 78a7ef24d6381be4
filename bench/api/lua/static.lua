-- One fixed request, built once per thread and replayed (wrk's cheapest mode). All from the
-- environment, all optional: BENCH_METHOD, BENCH_PATH, BENCH_BODY (JSON), BENCH_TOKEN (bearer),
-- BENCH_ACCEPT_ENCODING (reads: what a browser sends; wrk never decodes the body it gets).
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

local accept_encoding = os.getenv("BENCH_ACCEPT_ENCODING")
if accept_encoding and accept_encoding ~= "" then
  wrk.headers["Accept-Encoding"] = accept_encoding
end
