-- wrk script: each request from another client address (X-Forwarded-For, which the dev config
-- trusts from 127.0.0.1), as a crowd of distinct buyers behind a load balancer, with the headers
-- given on the command line; with METHOD=POST in the environment, a POST carrying `{}`.
local method = os.getenv("METHOD") or "GET"
local n = 0
request = function()
  n = n + 1
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["X-Forwarded-For"] = string.format("10.%d.%d.%d",
    math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
  if method == "POST" then
    headers["Content-Type"] = "application/json"
    return wrk.format("POST", nil, headers, "{}")
  end
  return wrk.format("GET", nil, headers, nil)
end
