-- Prints machine-readable totals and latency percentiles (microseconds) after a wrk run.
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("rps=%.2f\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("requests=%d\n", summary.requests))
  io.write(string.format("errors=%d\n", errors))
  io.write(string.format("p50=%d\n", latency:percentile(50)))
  io.write(string.format("p95=%d\n", latency:percentile(95)))
  io.write(string.format("p99=%d\n", latency:percentile(99)))
end
