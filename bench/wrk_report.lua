-- wrk --latency does not print the 95th percentile: this done() hook prints the latency
-- percentiles (microseconds) and the error counts on one line that bench/server.py parses.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH p50_us=%d p95_us=%d p99_us=%d requests=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99), summary.requests,
    e.connect, e.read, e.write, e.status, e.timeout))
end
