-- wrk script: the request given on the command line, as a POST.
wrk.method = "POST"
