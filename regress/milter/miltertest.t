#!/bin/sh
#
# The engine against miltertest (OpenDKIM's MTA simulator, a second MTA
# side independent of milterdrv): negotiation of the RCPT macros and the
# skipped steps, valid, invalid, unknown and skipped recipients, and in
# discard mode the removal of exactly the invalid recipients at EOM.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"

command -v miltertest >/dev/null 2>&1 || skip "miltertest not installed"

start_backend -U bob@example.net
main=$BACKEND_PORT
mainlog=$BACKEND_LOG
start_backend -m greylist
grey=$BACKEND_PORT
BACKEND_LOG=$mainlog

conf() {
	cat <<EOF2
invalid $1
backend "b" {
	host 127.0.0.1 port $main
	catchall ignore
}
backend "g" {
	host 127.0.0.1 port $grey
	catchall ignore
}
domain "example.net" backend "b"
domain "grey.test" backend "g"
EOF2
}

# mt script: run a Lua script against the daemon; it prints "ok" last.
mt() {
	out=$(miltertest -D "sock=$MILTER" -s "$T/$1.lua" 2>&1) ||
	    fail "miltertest $1: $out"
	expect_match "miltertest $1" "$out" '^ok$'
}

cat >"$T/reject.lua" <<'EOF2'
-- rcpt(conn, address, expected reply): one RCPT and its answer
function rcpt(conn, addr, want)
	if mt.rcptto(conn, addr) ~= nil then
		error("mt.rcptto(" .. addr .. ") failed")
	end
	if mt.getreply(conn) ~= want then
		error(addr .. ": unexpected reply " .. mt.getreply(conn))
	end
end

local conn = mt.connect(sock, 20, 0.1)
if conn == nil then error("cannot connect to " .. sock) end
if mt.negotiate(conn, nil, nil, nil) ~= nil then error("negotiate") end
if not mt.test_action(conn, SMFIF_DELRCPT) then error("no DELRCPT") end
if not mt.test_option(conn, SMFIP_NOBODY) then error("body not skipped") end
if not mt.test_option(conn, SMFIP_NOHDRS) then error("headers not skipped") end
if mt.conninfo(conn, "mx.remote.test", "203.0.113.5") ~= nil then
	error("conninfo")
end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("connect reply") end
if mt.mailfrom(conn, "<x@remote.test>") ~= nil then error("mailfrom") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("mail reply") end
rcpt(conn, "<bob@example.net>", SMFIR_CONTINUE)
rcpt(conn, "<nobody@example.net>", SMFIR_REPLYCODE)
rcpt(conn, "<nobody@example.net>", SMFIR_REPLYCODE)
rcpt(conn, "<x@grey.test>", SMFIR_CONTINUE)
rcpt(conn, "<x@elsewhere.test>", SMFIR_CONTINUE)
rcpt(conn, "<postmaster>", SMFIR_CONTINUE)
mt.disconnect(conn)

-- An authenticated session is not verified.
conn = mt.connect(sock, 20, 0.1)
mt.conninfo(conn, "mx.remote.test", "203.0.113.6")
mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "alice")
mt.mailfrom(conn, "<alice@remote.test>")
rcpt(conn, "<nobody2@example.net>", SMFIR_CONTINUE)
mt.disconnect(conn)
mt.echo("ok")
EOF2

cat >"$T/discard.lua" <<'EOF2'
local conn = mt.connect(sock, 20, 0.1)
if conn == nil then error("cannot connect to " .. sock) end
mt.conninfo(conn, "mx.remote.test", "203.0.113.5")
mt.mailfrom(conn, "<x@remote.test>")
for _, a in ipairs({"<bob@example.net>", "<nobody@example.net>",
    "<nobody3@example.net>"}) do
	mt.rcptto(conn, a)
	if mt.getreply(conn) ~= SMFIR_CONTINUE then
		error(a .. ": not accepted at RCPT in discard mode")
	end
end
-- DATA, headers and body were negotiated away: straight to EOM.
if mt.eom(conn) ~= nil then error("eom") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("eom reply") end
if not mt.eom_check(conn, MT_RCPTDELETE, "<nobody@example.net>") then
	error("nobody@example.net not removed")
end
if not mt.eom_check(conn, MT_RCPTDELETE, "<nobody3@example.net>") then
	error("nobody3@example.net not removed")
end
if mt.eom_check(conn, MT_RCPTDELETE, "<bob@example.net>") then
	error("bob@example.net removed")
end
mt.disconnect(conn)
mt.echo("ok")
EOF2

conf reject >"$T/body"
start_scamback <"$T/body"
mt reject
expect_eq "probes" "$(backend_count '^rcpt ')" 2
expect_eq "reject lines" "$(log_count ' reject to=<nobody@example.net>')" 2
expect_eq "authenticated skipped" "$(sbstat skipped.authenticated)" 1
stop_scamback

conf discard >"$T/body"
start_scamback <"$T/body"
mt discard
expect_eq "discard lines" "$(log_count ' discard to=')" 2
stop_scamback
stop_backend
exit 0
