-- SPDX-License-Identifier: MIT
-- POST /v1/collection-cases: the tests' valid_case body (tests/http/conftest.py)
-- for a random tenant, with an invoice number and Idempotency-Key unique to
-- this wrk invocation (nonce), thread and request: every request is a new case.
package.path = (os.getenv("BENCH_DIR") or "bench") .. "/?.lua;" .. package.path
local c = require("common")
setup = c.setup
local tenants, tmpl, nonce
local counter = 0
function init(args)
  local data, run
  data, run, nonce = c.load(args)
  c.seed(id)
  tenants = data.tenants
  tmpl = '{"your_reference":"cus_551","service":"collection","invoice":{"number":"%s",'
    .. '"issued_on":"' .. run.issued_on .. '","due_on":"' .. run.due_on .. '","currency":"NOK",'
    .. '"original_amount":124900,"outstanding_amount":124900,"fees":3500,'
    .. '"description":"Subscription January 2026","payment_reference":"RF71234567890123456789",'
    .. '"reminders":[{"sent_on":"' .. run.reminder_on .. '","fee":3500}],"disputed":false},'
    .. '"debtor":{"customer_number":"551","customer_type":"consumer","name":"Kari Nordmann",'
    .. '"business_name":null,"org_number":null,"national_id":null,"date_of_birth":"1985-04-12",'
    .. '"email":"kari@example.no","phone":"+4791234567",'
    .. '"extra_fields":[{"purpose":"phone_number","value":"912 34 567"}],"language":"nb",'
    .. '"address":{"line1":"Storgata 1","line2":null,"postal_code":"0155","city":"Oslo","country":"NO"}}}'
end
function request()
  counter = counter + 1
  local t = tenants[math.random(#tenants)]
  local number = string.format("W%s-%d-%d", nonce, id, counter)
  return wrk.format("POST", "/v1/collection-cases", {
    Authorization = t.auth,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = number,
  }, string.format(tmpl, number))
end
