-- wrk script: the request given on the command line, as a POST with a small JSON body (what a
-- page's buy or token request carries).
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
