# shellcheck shell=bash
# Shared by the revoke benchmarks: a lab of their own (`fleetid demo --headless`, loopback
# only) started in a temporary work directory and stopped on exit, its credentials only, and
# `fleetid` pointed at it. Set before sourcing: FLEETID_BIN, DEVICES, NAME (for messages and
# the MQTT client id), TIMEOUT_S (per fleetid command, default 120), optional RATE, optional
# DEMO_ARGS (an array of more `fleetid demo` options).

work=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX")
demo_pid=
cleanup() {
  if [[ -n $demo_pid ]] && kill -0 "$demo_pid" 2>/dev/null; then
    kill -INT "$demo_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$demo_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
  fi
  if [[ ${KEEP:-0} == 1 ]]; then echo "$NAME: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The lab, and its `key: value` lines up to `ready:` (bounded).
"$FLEETID_BIN" demo --headless --devices "$DEVICES" --state-dir "$work/state" \
  ${DEMO_ARGS[@]+"${DEMO_ARGS[@]}"} >"$work/demo.out" 2>"$work/demo.err" </dev/null &
demo_pid=$!
for _ in $(seq 1 600); do
  grep -q '^ready:' "$work/demo.out" 2>/dev/null && break
  kill -0 "$demo_pid" 2>/dev/null || { cat "$work/demo.err" >&2; exit 1; }
  sleep 0.5
done
grep -q '^ready:' "$work/demo.out" || { echo "$NAME: the lab did not boot in 300 s" >&2; exit 1; }
field() { sed -n "s/^$1: //p" "$work/demo.out" | head -n1; }
url=$(field endpoint-url)
mqtt=$(field mqtt-address)
region=$(field region)
case $url in http://127.0.0.1:*) ;; *) echo "$NAME: not loopback: $url" >&2; exit 1 ;; esac

# Only the lab's credentials; a cache and config of our own.
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
AWS_ACCESS_KEY_ID=$(sed -n 's/^aws_access_key_id = //p' "$work/state/credentials")
AWS_SECRET_ACCESS_KEY=$(sed -n 's/^aws_secret_access_key = //p' "$work/state/credentials")
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_IOT
export AWS_CONFIG_FILE="$work/no-aws-config" AWS_SHARED_CREDENTIALS_FILE="$work/no-aws-credentials"
export AWS_EC2_METADATA_DISABLED=true
export FLEETID_CACHE="$work/cache.sqlite3" HOME="$work" XDG_CONFIG_HOME="$work/config"

rate=()
if [[ -n ${RATE:-} ]]; then rate=(--rate "$RATE"); fi
fleetid() {
  timeout "${TIMEOUT_S:-120}" "$FLEETID_BIN" --endpoint-url "$url" --region "$region" \
    --mqtt-endpoint "$mqtt" --mqtt-ca "$(field operator-ca)" \
    --mqtt-cert "$(field operator-cert)" --mqtt-key "$(field operator-key)" \
    --mqtt-client-id "$NAME-cli" "$@" </dev/null
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
