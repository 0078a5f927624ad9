-- wrk script: POSTs the requests listed in a file (PATH<TAB>Header: value<TAB>...), each once,
-- in order, then stops. Written by `flashgate bench-requests`.
local requests = {}
local next_request = 0

function init(args)
  for line in io.lines(args[1]) do
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
end

function request()
  next_request = next_request + 1
  if next_request > #requests then
    wrk.thread:stop()
    next_request = #requests
  end
  return requests[next_request]
end
