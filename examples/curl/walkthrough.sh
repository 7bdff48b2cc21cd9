#!/usr/bin/env bash
# The REST API with curl, start to finish: register, log in, create a private room, invite,
# post (with an idempotent retry), page history, a 304, edit, a stale If-Match (412), delete.
#   bash examples/curl/walkthrough.sh [http://127.0.0.1:8080]
# Exits non-zero at the first answer that is not what the API promises.
set -euo pipefail
S=${1:-http://127.0.0.1:8080}
U=u$RANDOM$RANDOM
R=r$RANDOM$RANDOM
J='content-type: application/json'

expect() { # expect STATUS METHOD PATH [curl args...]: print the body, fail on another status
  local want=$1 method=$2 path=$3; shift 3
  local out status
  out=$(curl -s -w '\n%{http_code}' -X "$method" "$S$path" "$@")
  status=${out##*$'\n'}
  echo "$method $path → $status ${out%$'\n'*}" | cut -c1-200
  [ "$status" = "$want" ] || { echo "expected $want" >&2; exit 1; }
}
field() { sed -n "s/.*\"$1\":\"\\{0,1\\}\\([^\",]*\\).*/\\1/p" | head -1; }

expect 201 POST /v1/users -H "$J" -d "{\"name\":\"$U\",\"password\":\"correct horse battery\"}"
expect 201 POST /v1/users -H "$J" -d "{\"name\":\"${U}b\",\"password\":\"correct horse battery\"}"
T=$(curl -s -X POST "$S/v1/tokens" -H "$J" -d "{\"name\":\"$U\",\"password\":\"correct horse battery\"}" | field token)
A="authorization: Bearer $T"
expect 201 POST /v1/rooms -H "$A" -H "$J" -d "{\"name\":\"$R\",\"private\":true}"
expect 201 PUT "/v1/rooms/$R/members/${U}b" -H "$A"
expect 201 POST "/v1/rooms/$R/messages" -H "$A" -H "$J" -H 'idempotency-key: k1' -d '{"text":"hello"}'
expect 200 POST "/v1/rooms/$R/messages" -H "$A" -H "$J" -H 'idempotency-key: k1' -d '{"text":"hello"}'
expect 201 POST "/v1/rooms/$R/messages" -H "$A" -H "$J" -d '{"text":"second"}'
expect 200 GET "/v1/rooms/$R/messages?limit=1" -H "$A"
ETAG=$(curl -si "$S/v1/rooms/$R/messages" -H "$A" | tr -d '\r' | sed -n 's/^etag: //Ip')
expect 304 GET "/v1/rooms/$R/messages" -H "$A" -H "if-none-match: $ETAG"
M=$(curl -si "$S/v1/rooms/$R/messages/1" -H "$A" | tr -d '\r' | sed -n 's/^etag: //Ip')
expect 200 PATCH "/v1/rooms/$R/messages/1" -H "$A" -H 'content-type: application/merge-patch+json' -H "if-match: $M" -d '{"text":"edited"}'
expect 412 PATCH "/v1/rooms/$R/messages/1" -H "$A" -H 'content-type: application/merge-patch+json' -H "if-match: $M" -d '{"text":"stale"}'
expect 200 DELETE "/v1/rooms/$R/messages/2" -H "$A"
echo "walkthrough ok"
