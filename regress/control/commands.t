#!/bin/sh
# Every scambackctl command and filter against a running daemon, in text
# and in JSON (each JSON document parsed by jq).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-control.sh"
command -v jq >/dev/null || skip "jq not installed"
ensure_user

start_backend -U alice@example.net -U carol@example.org
write_conf
now=$(date +%s)
cat >"$CACHE" <<EOC
# scam-back cache v1
valid1@example.net valid $((now + 3600))
invalid1@example.net invalid $((now + 600))
valid2@example.org valid $((now + 3600))
invalid2@example.org invalid $((now + 600))
Mixed@Example.NET valid $((now + 7200))
EOC
start_daemon

# show cache: header, one line per entry, columns.
out=$(ctl show cache) || fail "show cache: exit $?"
expect_match "show cache header" "$(echo "$out" | head -n 1)" \
    "^address +state +expires in +hits$"
expect_eq "show cache lines" "$(echo "$out" | tail -n +2 | wc -l)" 5
expect_match "show cache row" "$out" \
    "invalid1@example.net +invalid +(9m|10m)[0-9]*s? +0"
expect_match "show cache domain lowercased" "$out" "Mixed@example.net +valid"
# Sorted by domain, then local part, in text and JSON alike.
expect_eq "show cache order" "$(echo "$out" | tail -n +2 | awk '{ print $1 }' | tr '\n' ' ')" \
    "Mixed@example.net invalid1@example.net valid1@example.net invalid2@example.org valid2@example.org "
expect_eq "show cache order, JSON" "$(ctl -j show cache | jq -r '.cache[].address' | tr '\n' ' ')" \
    "Mixed@example.net invalid1@example.net valid1@example.net invalid2@example.org valid2@example.org "

count() {	# count JSON-entries-of "args"
	_o=$(ctl -j "$@") || fail "-j $*: exit $?"
	json "-j $*" "$_o"
	printf '%s\n' "$_o" | jq '.cache | length'
}
expect_eq "all" "$(count show cache)" 5
expect_eq "valid" "$(count show cache valid)" 3
expect_eq "invalid" "$(count show cache invalid)" 2
expect_eq "@domain" "$(count show cache @example.org)" 2
expect_eq "@DOMAIN" "$(count show cache @EXAMPLE.ORG)" 2
expect_eq "valid @domain" "$(count sh ca v @example.org)" 1
expect_eq "invalid @domain" "$(count sh ca i @example.net)" 1
expect_eq "address" "$(count show cache valid1@example.net)" 1
expect_eq "address, domain case" "$(count show cache Mixed@EXAMPLE.net)" 1
expect_eq "address, local part case" "$(count show cache mixed@example.net)" 0
expect_eq "state and address" "$(count show cache invalid valid1@example.net)" 0
o=$(ctl -j show cache invalid1@example.net)
expect_eq "json fields" "$(echo "$o" | jq -r '.cache[0] | "\(.address) \(.state) \(.hits)"')" \
    "invalid1@example.net invalid 0"
expect_eq "json expires" "$(echo "$o" | jq '.cache[0].expires')" $((now + 600))
out=$(ctl show cache @example.com)
expect_eq "no match: header only" "$(echo "$out" | wc -l)" 1

# show stats
out=$(ctl show stats) || fail "show stats: exit $?"
expect_match "stats text" "$out" "cache entries +5 of 1000000"
o=$(ctl -j show stats)
json "show stats" "$o"
expect_eq "stats json" "$(echo "$o" | jq .stats.cache_entries)" 5
# The same labels: a text label is its JSON name, group and key, with
# blanks for underscores ("cache entries" also shows cache_size, "cache
# saves" cache_saved_at; "started" is the JSON time uptime counts from).
echo "$out" | cut -c1-24 | sed 's/ *$//' | sort >"$T/text-labels"
echo "$o" | jq -r '.stats | paths(scalars) | map(tostring) | join(" ")' |
    tr _ ' ' | grep -vx -e started -e 'cache size' -e 'cache saved at' |
    sort >"$T/json-labels"
diff -u "$T/json-labels" "$T/text-labels" >&2 || fail "stats labels differ"
for v in $(echo "$o" | jq -r '.stats | paths(scalars) | map(tostring) | join(".")'); do
	t=$(echo "$v" | tr '._' '  ')
	case $t in started|"cache size"|"cache saved at"|uptime|"cache entries"|"cache saves") continue ;; esac
	expect_eq "stats $t" "$(echo "$out" | awk -v l="$t" 'substr($0, 1, 24) ~ "^" l " *$" { print $NF }')" \
	    "$(echo "$o" | jq ".stats.$v")"
done

# show backends
out=$(ctl show backends) || fail "show backends: exit $?"
expect_match "backends text" "$out" "^backend mailbox"
expect_match "backends host" "$out" "host 127.0.0.1 port $BACKEND_PORT"
o=$(ctl -j show backends)
json "show backends" "$o"
expect_eq "backends json" "$(echo "$o" | jq -r '.backends[0].name')" mailbox
expect_eq "backends json host" "$(echo "$o" | jq '.backends[0].hosts[0].port')" \
    "$BACKEND_PORT"

# check: the backend's answer and the verdict; the cache learns it.
out=$(ctl check alice@example.net) || fail "check: exit $?"
expect_match "check valid" "$out" "^alice@example.net: valid"
expect_match "check reply" "$out" "backend mailbox: 250"
out=$(ctl check nobody@example.net) || fail "check: exit $?"
expect_match "check invalid" "$out" "^nobody@example.net: invalid"
expect_match "check reply" "$out" "550 5.1.1"
o=$(ctl -j check carol@example.org)
json "check" "$o"
expect_eq "check json" "$(echo "$o" | jq -r '.check | "\(.verdict) \(.code) \(.backend)"')" \
    "valid 250 mailbox"
expect_eq "check updated the cache" "$(count show cache nobody@example.net)" 1
o=$(ctl -j check someone@example.com)
json "check, domain not verified" "$o"
expect_eq "check unverified" "$(echo "$o" | jq -r .check.verdict)" unknown

# A verdict through the milter shows up too.
rcpt bob@example.org >/dev/null || fail "milterdrv failed"
expect_eq "learnt from the milter" "$(count show cache invalid bob@example.org)" 1

# flush cache, each filter; text and JSON results.
out=$(ctl flush cache invalid @example.org) || fail "flush: exit $?"
expect_eq "flush invalid @domain" "$out" "2 cache entries flushed"
expect_eq "flushed" "$(count show cache invalid @example.org)" 0
o=$(ctl -j flush cache valid1@example.net)
json "flush" "$o"
expect_eq "flush address json" "$(echo "$o" | jq -c .result)" \
    '{"ok":true,"count":1,"message":"1 cache entry flushed"}'
out=$(ctl flush cache @example.org)
expect_eq "flush @domain" "$out" "2 cache entries flushed"
out=$(ctl flush cache invalid)
expect_eq "flush invalid" "$out" "2 cache entries flushed"
out=$(ctl flush cache valid)
expect_eq "flush valid" "$out" "2 cache entries flushed"
expect_eq "empty" "$(count show cache)" 0
rcpt alice@example.net nobody2@example.net >/dev/null
out=$(ctl fl ca)
expect_eq "flush all" "$out" "2 cache entries flushed"

# save cache
rcpt alice@example.net nobody3@example.net >/dev/null
out=$(ctl save cache) || fail "save cache: exit $?"
expect_match "save" "$out" "^cache saved: 2 entries in $CACHE"
expect_eq "saved header" "$(head -n 1 "$CACHE")" "# scam-back cache v1"
expect_eq "saved lines" "$(cache_lines "$CACHE")" 2
grep -Eq "^nobody3@example.net invalid [0-9]+$" "$CACHE" ||
    fail "saved entry: $(cat "$CACHE")"
o=$(ctl -j save cache)
json "save" "$o"
expect_eq "save json" "$(echo "$o" | jq '.result.ok, .result.count' | tr '\n' ' ')" "true 2 "

# log verbose | brief
expect_eq "log verbose" "$(ctl log verbose)" "logging verbose"
expect_eq "log brief" "$(ctl log brief)" "logging brief"
o=$(ctl -j log verbose)
json "log" "$o"
expect_eq "log json" "$(echo "$o" | jq .result.ok)" true

# reload: success, then a broken file is refused with its errors.
out=$(ctl reload) || fail "reload: exit $?"
expect_eq "reload" "$out" "configuration reloaded"
o=$(ctl -j reload)
json "reload" "$o"
cp "$T/scam-back.conf" "$T/good.conf"
echo "cache valid expire banana" >>"$T/scam-back.conf"
out=$(ctl reload 2>&1)
expect_eq "broken reload: exit" "$?" 1
expect_match "broken reload" "$out" "^scambackctl: .*(error|scam-back.conf)"
o=$(ctl -j reload 2>/dev/null)
json "broken reload" "$o"
expect_eq "broken reload json" "$(printf "%s\n" "$o" | jq .result.ok)" false
cp "$T/good.conf" "$T/scam-back.conf"

# Still serving after all that.
ctl show stats >/dev/null || fail "daemon gone"
stop_daemon
stop_backend
exit 0
