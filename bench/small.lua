-- SPDX-License-Identifier: MIT
-- A small answer: GET BENCH_PATH (default /healthz) with a random tenant's
-- token (ignored by /healthz; /v1/agency-settings reads the tenant's row).
package.path = (os.getenv("BENCH_DIR") or "bench") .. "/?.lua;" .. package.path
local c = require("common")
setup = c.setup
function init(args)
  local data = c.load(args)
  c.seed(id)
  local path = os.getenv("BENCH_PATH") or "/healthz"
  local pool = {}
  for k = 1, 1024 do
    local t = data.tenants[math.random(#data.tenants)]
    pool[k] = wrk.format("GET", path, { Authorization = t.auth })
  end
  request = c.serve(pool)
end
