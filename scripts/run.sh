#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make run`: two agency simulators (production and staging, DESIGN.md
# "Agency settings") and inkasso on loopback, wired together, a demo tenant
# configured (on production), `inkasso webhook-listen` registered as its webhook
# endpoint (every event printed as it arrives), and ready-to-paste curl
# lines. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p run
listen="${INKASSO_LISTEN:-127.0.0.1:8080}"
sim_listen="${AGENCY_SIM_LISTEN:-127.0.0.1:8090}"
staging_listen="${AGENCY_SIM_STAGING_LISTEN:-127.0.0.1:8091}"
hook_listen="${WEBHOOK_LISTEN:-127.0.0.1:8099}"
# A local secret, made once and kept in run/ (never committed).
if [ -z "${INKASSO_JWT_SECRET:-}" ]; then
	[ -s run/jwt-secret ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >run/jwt-secret
	INKASSO_JWT_SECRET=$(cat run/jwt-secret)
fi
export INKASSO_JWT_SECRET INKASSO_LISTEN="$listen" INKASSO_DB="${INKASSO_DB:-run/inkasso.db}"
export INKASSO_AGENCY_URL="${INKASSO_AGENCY_URL:-http://$sim_listen}" INKASSO_SYNC_INTERVAL="${INKASSO_SYNC_INTERVAL:-5}"
export INKASSO_AGENCY_STAGING_URL="${INKASSO_AGENCY_STAGING_URL:-http://$staging_listen}"
# The listener is plain http on loopback: allowed for this local set-up only.
export INKASSO_WEBHOOK_ALLOW_PRIVATE="${INKASSO_WEBHOOK_ALLOW_PRIVATE:-1}"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

bin/agency-sim --listen "$sim_listen" --db run/agency-sim.db 2>>run/agency-sim.log &
pids+=($!)
bin/agency-sim --listen "$staging_listen" --db run/agency-sim-staging.db 2>>run/agency-sim-staging.log &
pids+=($!)
bin/inkasso serve &
inkasso_pid=$!
pids+=("$inkasso_pid")
for _ in $(seq 100); do
	curl -fsS "http://$listen/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
curl -fsS "http://$listen/healthz" >/dev/null

token=$(bin/inkasso token --tenant demo --scope "cases:read cases:write settings:write webhooks:write" \
	--sub demo-user --ttl 86400)
curl -fsS -X PUT "http://$listen/v1/agency-settings" -H "Authorization: Bearer $token" \
	-H 'Content-Type: application/json' \
	-d '{"creditor_reference":"DEMO-1","api_key":"demo-key","service":"collection","customer_type":"auto"}' >/dev/null

# The demo tenant's webhook endpoint: webhook-listen. Registered once (the
# database keeps it); on a later run its secret is rotated, since a secret
# is shown only when made.
hook_url="http://$hook_listen/inkasso"
existing=$(curl -fsS "http://$listen/v1/webhook-endpoints?limit=200" -H "Authorization: Bearer $token" |
	python3 -c 'import json,sys; print(next((e["id"] for e in json.load(sys.stdin)["data"] if e["url"] == sys.argv[1]), ""))' \
		"$hook_url")
if [ -n "$existing" ]; then
	answer=$(curl -fsS -X POST "http://$listen/v1/webhook-endpoints/$existing/rotate-secret" \
		-H "Authorization: Bearer $token")
	curl -fsS -X PATCH "http://$listen/v1/webhook-endpoints/$existing" -H "Authorization: Bearer $token" \
		-H 'Content-Type: application/json' -d '{"enabled": true}' >/dev/null
else
	answer=$(curl -fsS -X POST "http://$listen/v1/webhook-endpoints" -H "Authorization: Bearer $token" \
		-H 'Content-Type: application/json' \
		-d '{"url":"'"$hook_url"'","event_types":["*"],"description":"make run: inkasso webhook-listen"}')
fi
(umask 077 && python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])' <<<"$answer" >run/webhook-secret)
hook_id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$answer")
bin/inkasso webhook-listen --listen "$hook_listen" --secret-file run/webhook-secret > >(tee -a run/webhooks.log) &
pids+=($!)
due=$(date -u -d '-60 days' +%F) issued=$(date -u -d '-90 days' +%F) reminded=$(date -u -d '-30 days' +%F)
cat <<MSG

inkasso is listening on http://$listen (database $INKASSO_DB, agency simulators: production on
$sim_listen, staging on $staging_listen; README "Onboarding a creditor against staging").
Tenant "demo" is configured; its webhook endpoint $hook_id is \`inkasso webhook-listen\` on
$hook_listen, which prints every event here (and into run/webhooks.log) as it arrives.
In another terminal:

  export TOKEN=$token

  curl -s -X POST http://$listen/v1/collection-cases -H "Authorization: Bearer \$TOKEN" \\
    -H 'Content-Type: application/json' -H "Idempotency-Key: demo-\$RANDOM" -d '{
    "your_reference": "cus_551",
    "invoice": {"number": "INV-'\$RANDOM'", "issued_on": "$issued", "due_on": "$due", "currency": "NOK",
                "original_amount": 124900, "outstanding_amount": 124900, "fees": 3500,
                "reminders": [{"sent_on": "$reminded", "fee": 3500}]},
    "debtor": {"name": "Kari Nordmann", "email": "kari@example.no", "phone": "+4791234567",
               "address": {"line1": "Storgata 1", "postal_code": "0155", "city": "Oslo", "country": "NO"}}}'

  curl -s "http://$listen/v1/collection-cases?state=open&limit=10" -H "Authorization: Bearer \$TOKEN"
  curl -s "http://$listen/v1/events?limit=20" -H "Authorization: Bearer \$TOKEN"

Ctrl-C stops them all.
MSG
wait "$inkasso_pid"
