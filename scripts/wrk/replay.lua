-- wrk script: POSTs the requests listed in a file (PATH<TAB>Header: value<TAB>...), each once,
-- in order, then stops. Written by `flashgate bench-requests`. With several wrk threads, thread
-- k of n takes every n-th line from the k-th, so no request is sent twice.
local requests = {}
local next_request = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  local count = tonumber(args[2] or "1")
  local line_no = 0
  for line in io.lines(args[1]) do
    if line_no % count == id then
      local fields = {}
      for field in string.gmatch(line, "[^\t]+") do
        fields[#fields + 1] = field
      end
      local headers = {}
      for k = 2, #fields do
        local name, value = fields[k]:match("^([^:]+): (.*)$")
        headers[name] = value
      end
      requests[#requests + 1] = wrk.format("POST", fields[1], headers, "")
    end
    line_no = line_no + 1
  end
end

function request()
  next_request = next_request + 1
  if next_request > #requests then
    wrk.thread:stop()
    next_request = #requests
  end
  return requests[next_request]
end
