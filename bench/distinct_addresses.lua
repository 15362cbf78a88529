-- Every request from a client address of its own, as visitors arrive behind a load balancer:
-- X-Forwarded-For carries the address, which the platform believes because the benchmark's
-- server lists loopback in TRUSTED_PROXIES. The benchmark sets `first_address` (where this run's
-- addresses start, so that no run repeats an earlier one's) and `wrk_threads` above this text.
-- The addresses are 10.0.0.0/8 counted from `first_address`, thread t taking t, t + threads, ...
local threads = 0
setup = function(thread)
  thread:set("thread_id", threads)
  threads = threads + 1
end

local n = 0
local function address(k)
  k = k % 16777216
  return string.format("10.%d.%d.%d", math.floor(k / 65536), math.floor(k / 256) % 256, k % 256)
end

request = function()
  local k = first_address + n * wrk_threads + thread_id
  n = n + 1
  return wrk.format(nil, nil, {["X-Forwarded-For"] = address(k)})
end
