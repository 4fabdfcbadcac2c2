-- SPDX-License-Identifier: MIT
-- GET /v1/collection-cases (limit 50, the default) at a random cursor of a
-- random tenant: a page of 50 cases from anywhere in the tenant's history.
package.path = (os.getenv("BENCH_DIR") or "bench") .. "/?.lua;" .. package.path
local c = require("common")
setup = c.setup
function init(args)
  local data = c.load(args)
  c.seed(id)
  local pool = {}
  for k = 1, 4096 do
    local t = data.tenants[math.random(#data.tenants)]
    -- before_seq in [52, maxseq + 1]: always a full page of 50
    local seq = math.random(52, t.maxseq + 1)
    pool[k] = wrk.format("GET", "/v1/collection-cases?cursor=" .. c.cursor(seq), { Authorization = t.auth })
  end
  request = c.serve(pool)
end
