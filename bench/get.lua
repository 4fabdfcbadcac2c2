-- SPDX-License-Identifier: MIT
-- GET /v1/collection-cases/{id}: one case of a random tenant, by a random
-- id among those bench/gen sampled for that tenant.
package.path = (os.getenv("BENCH_DIR") or "bench") .. "/?.lua;" .. package.path
local c = require("common")
setup = c.setup
function init(args)
  local data = c.load(args)
  c.seed(id)
  local pool = {}
  for k = 1, 4096 do
    local t = data.tenants[math.random(#data.tenants)]
    local case_id = t.ids[math.random(#t.ids)]
    pool[k] = wrk.format("GET", "/v1/collection-cases/" .. case_id, { Authorization = t.auth })
  end
  request = c.serve(pool)
end
