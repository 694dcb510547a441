-- wrk script: POST /v1/posts with a bearer token and a fresh Idempotency-Key
-- per request, so every request creates a post (the sandbox's worst case).
local counter = 0
local token = os.getenv("MANCH_TOKEN")
local thread_id = tostring(math.random(1, 1000000000))

request = function()
  counter = counter + 1
  local key = thread_id .. "-" .. counter
  return wrk.format("POST", "/v1/posts", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = key,
  }, '{"text":"benchmark post ' .. key .. '"}')
end

done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("non-2xx answers: %d\n", non2xx))
end
