-- SPDX-License-Identifier: MIT
-- Shared by bench/list.lua, get.lua, small.lua and create.lua (wrk 4.1, LuaJIT).
-- Script arguments (after `--` on the wrk command line):
--   1: the data file bench/gen wrote (tenants, their case counts, sampled ids)
--   2: the run file bench/run.sh wrote (a token per tenant, dates for bodies)
--   3: a nonce that makes this wrk invocation's invoice numbers unique
-- Requests are prepared in init() so that request() costs next to nothing:
-- wrk shares the two cores with the server it measures.
local M = {}

local b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local function ch(v) local i = v % 64 + 1 return b64:sub(i, i) end

-- handlers/cursor.c: base64url("v1.<seq>") without padding
function M.cursor(seq)
  local raw = "v1." .. string.format("%d", seq)
  local out, n = {}, #raw
  for i = 1, n, 3 do
    local a, b, c = raw:byte(i, i + 2)
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    out[#out + 1] = ch(math.floor(v / 262144))
    out[#out + 1] = ch(math.floor(v / 4096))
    if n - i >= 1 then out[#out + 1] = ch(math.floor(v / 64)) end
    if n - i >= 2 then out[#out + 1] = ch(v) end
  end
  return table.concat(out)
end

function M.load(args)
  local data = dofile(args[1])
  local run = dofile(args[2])
  for _, t in ipairs(data.tenants) do
    t.auth = "Bearer " .. assert(run.tokens[t.name], "no token for " .. t.name)
  end
  return data, run, args[3] or "x"
end

function M.seed(id)
  math.randomseed(os.time() * 1000 + (id or 0) * 7919)
  for _ = 1, 10 do math.random() end
end

-- A pool of prepared requests, served round-robin.
function M.serve(pool)
  local i, n = 0, #pool
  return function()
    i = i % n + 1
    return pool[i]
  end
end

-- Gives every wrk thread its number (used for seeds and unique numbers).
local next_id = 0
function M.setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
end

return M
