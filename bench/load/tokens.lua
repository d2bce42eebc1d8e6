-- wrk: every request carries the next token of TOKENS_FILE (one per line), each thread starting
-- at its own offset, so N threads walk the whole file between them.
local tokens = {}
local index = 0
local threads = 0

function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
end

function init(args)
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    tokens[#tokens + 1] = line
  end
  index = (offset or 0) * math.floor(#tokens / 2)
end

function request()
  index = index % #tokens + 1
  return wrk.format("GET", "/v1/results", { ["Authorization"] = "Bearer " .. tokens[index] })
end
