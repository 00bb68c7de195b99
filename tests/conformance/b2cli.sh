#!/usr/bin/env bash
# Conformance: the official Backblaze B2 command-line tool (`pip install b2`) against b2-sim.
#
# Usage: tests/conformance/b2cli.sh
#   B2_CLI_SPEC     pip requirement for the tool (default: b2)
#   B2_CLI_VENV     where the venv lives (default: $CARGO_TARGET_DIR/venv, gitignored)
#   CARGO_TARGET_DIR  (default: <repo>/target-sim)
#
# Runs the same scenario twice: once clean, once with faults (503s before and after the body,
# connections dropped mid-body, 429s, expiring tokens). The tool's own retries must get every
# file through intact. Ends with "N passed, M failed"; exits non-zero on any failure.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target-sim}"
VENV="${B2_CLI_VENV:-$CARGO_TARGET_DIR/venv}"
SPEC="${B2_CLI_SPEC:-b2}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/b2cli-conformance.XXXXXX")
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
    echo "b2cli.sh: $*" >&2
    echo "$PASS passed, $((FAIL + 1)) failed"
    exit 1
}

# --- the tool -----------------------------------------------------------------------------
if [ ! -x "$VENV/bin/b2" ]; then
    echo "installing $SPEC into $VENV"
    python3 -m venv "$VENV" || die "cannot create a venv"
    "$VENV/bin/pip" install -q "$SPEC" || die "pip install $SPEC failed"
fi
B2_BIN="$VENV/bin/b2"
echo "tool: $("$B2_BIN" version 2>/dev/null | head -n 1)"
export B2_ACCOUNT_INFO B2_ENVIRONMENT B2_APPLICATION_KEY_ID B2_APPLICATION_KEY
export PYTHONWARNINGS=ignore

b2() { "$B2_BIN" "$@"; }
py() { "$VENV/bin/python" -c "$@"; }

# --- the simulator ------------------------------------------------------------------------
(cd "$ROOT" && cargo build -q -p b2-sim --bin b2-sim -p b2-examples --bin b2ctl) || die "cargo build failed"
SIM_BIN="$CARGO_TARGET_DIR/debug/b2-sim"
B2CTL_BIN="$CARGO_TARGET_DIR/debug/b2ctl"

start_sim() {
    local out="$WORK/sim-$1.out"
    shift
    "$SIM_BIN" --port 0 --min-part-size 100000 "$@" >"$out" 2>"$out.err" &
    SIM_PID=$!
    for _ in $(seq 1 100); do
        grep -q '^READY ' "$out" 2>/dev/null && break
        sleep 0.1
    done
    grep -q '^READY ' "$out" || die "b2-sim did not print READY: $(cat "$out.err")"
    read -r _ B2_APPLICATION_KEY_ID B2_APPLICATION_KEY < <(grep '^KEY ' "$out")
    B2_ENVIRONMENT=$(sed -n 's/^READY //p' "$out")
    echo "b2-sim at $B2_ENVIRONMENT ($*)"
}

# --- helpers for checks ---------------------------------------------------------------------
json_field() { # FILE FIELD
    py "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"
}

listed() { # B2_URI NAME [ls args...]: NAME appears in b2 ls
    local uri=$1 name=$2
    shift 2
    b2 ls "$@" "$uri" | grep -qxF "$name"
}

not_listed() {
    local uri=$1 name=$2
    shift 2
    ! b2 ls "$@" "$uri" | grep -qxF "$name"
}

download_cmp() { # B2_URI EXPECTED_FILE
    local out="$WORK/dl.$RANDOM"
    b2 file download --no-progress "$1" "$out" >/dev/null && cmp "$out" "$2"
    local rc=$?
    rm -f "$out"
    return $rc
}

upload_json() { # BUCKET LOCAL NAME OUTFILE
    b2 file upload --no-progress --quiet "$1" "$2" "$3" >"$4"
}

is_large_upload() { # B2_URI: uploaded in parts (b2 stores large_file_sha1 only then)
    b2 file info "$1" | grep -q '"large_file_sha1"'
}

file_info_is() { # B2_URI NAME SIZE
    local f="$WORK/info.json"
    b2 file info "$1" >"$f" &&
        [ "$(json_field "$f" fileName)" = "$2" ] &&
        [ "$(json_field "$f" size)" = "$3" ]
}

key_create() { # NAME CAPS OUTFILE
    b2 key create "$1" "$2" >"$3" && [ "$(wc -w <"$3")" -eq 2 ]
}

# --- the scenario -------------------------------------------------------------------------
scenario() { # LABEL
    local label=$1
    local bucket="conformance-$label"
    local d="$WORK/$label"
    mkdir -p "$d"
    B2_ACCOUNT_INFO="$WORK/account-$label.sqlite"

    head -c 10000 /dev/urandom >"$d/small.bin"
    head -c 7000000 /dev/urandom >"$d/large.bin"
    for i in 1 2 3 4 5 6; do head -c $((i * 3001)) /dev/urandom >"$d/more$i.bin"; done

    check "[$label] account authorize" b2 account authorize "$B2_APPLICATION_KEY_ID" "$B2_APPLICATION_KEY"
    check "[$label] bucket create" b2 bucket create "$bucket" allPrivate
    check "[$label] bucket list" sh -c "'$B2_BIN' bucket list | grep -q ' $bucket\$'"
    check "[$label] upload small file" upload_json "$bucket" "$d/small.bin" dir/small.bin "$d/small.json"
    check "[$label] upload large file" upload_json "$bucket" "$d/large.bin" large.bin "$d/large.json"
    check "[$label] large file went up in parts" is_large_upload "b2://$bucket/large.bin"
    for i in 1 2 3 4 5 6; do
        check "[$label] upload more$i" upload_json "$bucket" "$d/more$i.bin" "more/$i.bin" "$d/more$i.json"
    done
    check "[$label] ls shows files and folders" sh -c "
        '$B2_BIN' ls b2://$bucket | tr '\n' ' ' | grep -qx 'dir/ large.bin more/ '"
    check "[$label] ls -r lists every file" sh -c "[ \$('$B2_BIN' ls -r b2://$bucket | wc -l) -eq 8 ]"

    local small_id large_id
    small_id=$(json_field "$d/small.json" fileId 2>/dev/null)
    large_id=$(json_field "$d/large.json" fileId 2>/dev/null)
    check "[$label] download small by name" download_cmp "b2://$bucket/dir/small.bin" "$d/small.bin"
    check "[$label] download large by name" download_cmp "b2://$bucket/large.bin" "$d/large.bin"
    check "[$label] download small by id" download_cmp "b2id://$small_id" "$d/small.bin"
    check "[$label] download large by id" download_cmp "b2id://$large_id" "$d/large.bin"
    for i in 1 2 3 4 5 6; do
        check "[$label] download more$i" download_cmp "b2://$bucket/more/$i.bin" "$d/more$i.bin"
    done
    check "[$label] file info by id" file_info_is "b2id://$small_id" dir/small.bin 10000
    check "[$label] file info by name" file_info_is "b2://$bucket/large.bin" large.bin 7000000
    check "[$label] server-side copy" b2 file server-side-copy "b2://$bucket/dir/small.bin" "b2://$bucket/copy.bin"
    check "[$label] download the copy" download_cmp "b2://$bucket/copy.bin" "$d/small.bin"
    check "[$label] hide" b2 file hide "b2://$bucket/copy.bin"
    check "[$label] hidden file leaves ls" not_listed "b2://$bucket" copy.bin
    check "[$label] hide marker in ls --versions" sh -c "
        [ \$('$B2_BIN' ls --versions b2://$bucket | grep -cx copy.bin) -eq 2 ]"
    check "[$label] delete a file version" b2 rm "b2id://$small_id"
    check "[$label] deleted version is gone" not_listed "b2://$bucket/dir/" dir/small.bin
    check "[$label] key create" key_create "conformance-key-$label" listBuckets,listFiles "$d/key.txt"
    local key_id
    key_id=$(cut -d' ' -f1 "$d/key.txt" 2>/dev/null)
    check "[$label] key list" sh -c "'$B2_BIN' key list | grep -q 'conformance-key-$label'"
    check "[$label] key delete" b2 key delete "$key_id"
    check "[$label] key gone from list" sh -c "! '$B2_BIN' key list | grep -q 'conformance-key-$label'"
    check "[$label] remove all versions" b2 rm --versions -r --no-progress "b2://$bucket"
    check "[$label] bucket delete" b2 bucket delete "$bucket"
    check "[$label] bucket gone" sh -c "! '$B2_BIN' bucket list | grep -q ' $bucket\$'"
}

# --- answers shaped like B2's (issue 16): SSE-B2 default, file ids, error bodies, keys ---------
# raw_call CALL JSON: authorizes with the master key (or RAW_KEY_ID / RAW_KEY) and makes one
# JSON call with urllib (bypassing the tool, which refuses some inputs itself); prints
# "STATUS BODY".
raw_call() {
    py '
import base64, json, os, sys, urllib.request as u, urllib.error as e
url = os.environ["B2_ENVIRONMENT"]
kid = os.environ.get("RAW_KEY_ID") or os.environ["B2_APPLICATION_KEY_ID"]
key = os.environ.get("RAW_KEY") or os.environ["B2_APPLICATION_KEY"]
basic = base64.b64encode((kid + ":" + key).encode()).decode()
auth = json.load(u.urlopen(u.Request(url + "/b2api/v4/b2_authorize_account", headers={"Authorization": "Basic " + basic})))
args = json.loads(sys.argv[2])
args.setdefault("accountId", auth["accountId"])
req = u.Request(url + "/b2api/v4/" + sys.argv[1], data=json.dumps(args).encode(),
                headers={"Authorization": auth["authorizationToken"]})
try:
    r = u.urlopen(req); print(r.status, r.read().decode())
except e.HTTPError as x:
    print(x.code, x.read().decode())
' "$1" "$2"
}
json_path() { # FILE a.b.c: prints that field
    py "import json,sys; v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split('.'): v=v[k]
print(v)" "$1" "$2"
}
has_sse_b2() { # FILE [PREFIX]: JSON at PREFIX is {algorithm: AES256, mode: SSE-B2}
    [ "$(json_path "$1" "$2.mode")" = SSE-B2 ] && [ "$(json_path "$1" "$2.algorithm")" = AES256 ]
}
id_shape() { # FILE TYPE: fileId has B2's 83-character shape with that type digit
    py "import json,re,sys; i=json.load(open(sys.argv[1]))['fileId']
sys.exit(0 if len(i)==83 and re.fullmatch(r'4_z[0-9a-f]{24}_f'+sys.argv[2]+r'[0-9a-f]{15}_d\d{8}_m\d{6}_c\d{3}_v\d{7}_t\d{4}', i) else 1)" "$1" "$2"
}
raw_is() { # EXPECTED_STATUS EXPECTED_SUBSTRING CALL JSON
    local out
    out=$(raw_call "$3" "$4") || return 1
    echo "$out"
    [ "${out%% *}" = "$1" ] && case "$out" in *"$2"*) true ;; *) false ;; esac
}
raw_is_as() { # KEYFILE EXPECTED_STATUS EXPECTED_SUBSTRING CALL JSON: raw_is as that key
    (
        export RAW_KEY_ID RAW_KEY
        read -r RAW_KEY_ID RAW_KEY <"$1"
        raw_is "${@:2}"
    )
}
as_key() { # KEYFILE ARGS...: runs the tool authorized as the key in KEYFILE
    # (without the master key's environment variables, which the tool would prefer)
    local info="$WORK/acct-$(basename "$1")" id key
    read -r id key <"$1"
    env -u B2_APPLICATION_KEY_ID -u B2_APPLICATION_KEY B2_ACCOUNT_INFO="$info" \
        "$B2_BIN" account authorize "$id" "$key" >/dev/null &&
        env -u B2_APPLICATION_KEY_ID -u B2_APPLICATION_KEY B2_ACCOUNT_INFO="$info" "$B2_BIN" "${@:2}"
}
fails_with() { # TEXT COMMAND...: the command fails and its output contains TEXT
    local text=$1 out
    shift
    if out=$("$@" 2>&1); then echo "succeeded: $out"; return 1; fi
    echo "$out"
    case "$out" in *"$text"*) true ;; *) false ;; esac
}

fidelity() {
    local bucket=fidelity-bucket d="$WORK/fidelity"
    mkdir -p "$d"
    B2_ACCOUNT_INFO="$WORK/account-fidelity.sqlite"
    b2 account authorize "$B2_APPLICATION_KEY_ID" "$B2_APPLICATION_KEY" >/dev/null
    head -c 5000 /dev/urandom >"$d/small.bin"
    head -c 7000000 /dev/urandom >"$d/large.bin"
    check "[fidelity] bucket create without encryption settings" b2 bucket create "$bucket" allPrivate
    b2 bucket get "$bucket" >"$d/bucket.json" 2>/dev/null
    local bucket_id
    bucket_id=$(json_field "$d/bucket.json" bucketId 2>/dev/null)
    check "[fidelity] new bucket's default encryption is SSE-B2" has_sse_b2 "$d/bucket.json" defaultServerSideEncryption
    check "[fidelity] upload" upload_json "$bucket" "$d/small.bin" small.bin "$d/small.json"
    check "[fidelity] upload is SSE-B2" has_sse_b2 "$d/small.json" serverSideEncryption
    check "[fidelity] large upload" upload_json "$bucket" "$d/large.bin" large.bin "$d/large.json"
    b2 file info "b2://$bucket/large.bin" >"$d/large-info.json" 2>/dev/null
    check "[fidelity] large file is SSE-B2" has_sse_b2 "$d/large-info.json" serverSideEncryption
    check "[fidelity] server-side copy" sh -c "'$B2_BIN' file server-side-copy b2://$bucket/small.bin b2://$bucket/copy.bin >'$d/copy.json'"
    check "[fidelity] copy is SSE-B2" has_sse_b2 "$d/copy.json" serverSideEncryption
    check "[fidelity] small file id: 83 characters, type 1" id_shape "$d/small.json" 1
    check "[fidelity] large file id: 83 characters, type 2" id_shape "$d/large-info.json" 2
    check "[fidelity] copy id: 83 characters, type 1" id_shape "$d/copy.json" 1
    check "[fidelity] download by the long id" download_cmp "b2id://$(json_field "$d/small.json" fileId)" "$d/small.bin"
    check "[fidelity] {mode: null} resets to SSE-B2" raw_is 200 '"mode":"SSE-B2"' b2_update_bucket \
        "{\"bucketId\": \"$bucket_id\", \"defaultServerSideEncryption\": {\"mode\": null}}"
    check "[fidelity] explicit none refused with 400" raw_is 400 '"code":"bad_request"' b2_update_bucket \
        "{\"bucketId\": \"$bucket_id\", \"defaultServerSideEncryption\": {\"mode\": \"none\"}}"
    check "[fidelity] file lock refused, not ignored" raw_is 400 'does not implement' b2_create_bucket \
        '{"bucketName": "fidelity-locked", "bucketType": "allPrivate", "fileLockEnabled": true}'
    check "[fidelity] key create listBuckets,listFiles" key_create fidelity-reader listBuckets,listFiles "$d/reader.txt"
    check "[fidelity] missing capability: B2's 401 body" raw_is_as "$d/reader.txt" 401 \
        '{"code":"unauthorized","message":"","status":401}' b2_create_bucket \
        '{"bucketName": "fidelity-denied", "bucketType": "allPrivate"}'
    # The tool parses the 401 as B2's (empty message): "unauthorized for application key ...".
    check "[fidelity] tool reports the missing capability as on B2" fails_with \
        "ERROR: unauthorized for application key with capabilities 'listBuckets,listFiles'" \
        as_key "$d/reader.txt" bucket create fidelity-denied allPrivate
    # Keys never escalate.
    check "[fidelity] bucket key with writeKeys refused" fails_with "cannot have the writeKeys capability" \
        b2 key create --bucket "$bucket" fidelity-bucket-admin writeKeys,listFiles
    check "[fidelity] key create minter (writeKeys, 1 h)" sh -c "'$B2_BIN' key create --duration 3600 fidelity-minter writeKeys,listBuckets,listFiles >'$d/minter.txt'"
    check "[fidelity] minter cannot grant readFiles" fails_with "unauthorized" \
        as_key "$d/minter.txt" key create --duration 60 fidelity-child listFiles,readFiles
    check "[fidelity] minter cannot create a key that outlives it" fails_with "unauthorized" \
        as_key "$d/minter.txt" key create fidelity-child listFiles
    check "[fidelity] minter can create a weaker key" as_key "$d/minter.txt" key create --duration 60 fidelity-child listFiles
    check "[fidelity] remove all versions" b2 rm --versions -r --no-progress "b2://$bucket"
    check "[fidelity] bucket delete" b2 bucket delete "$bucket"
}

settings() { # bucket settings, notification rules, keys and sharing, crossed with b2ctl
    local bucket=settings-bucket d="$WORK/settings"
    mkdir -p "$d"
    B2_ACCOUNT_INFO="$WORK/account-settings.sqlite"
    b2 account authorize "$B2_APPLICATION_KEY_ID" "$B2_APPLICATION_KEY" >/dev/null
    check "[settings] bucket create with lifecycle and CORS rules" b2 bucket create \
        --lifecycle-rule '{"fileNamePrefix": "logs/", "daysFromHidingToDeleting": 7, "daysFromUploadingToHiding": null}' \
        --cors-rules '[{"corsRuleName": "webapp", "allowedOrigins": ["*"], "allowedOperations": ["b2_download_file_by_name"], "maxAgeSeconds": 60}]' \
        "$bucket" allPrivate
    check "[settings] b2ctl reads the tool's lifecycle rule" sh -c \
        "'$B2CTL_BIN' bucket get $bucket | grep -q 'lifecycle:   prefix=\"logs/\" hide-after=- delete-hidden-after=7'"
    check "[settings] b2ctl reads the tool's CORS rule" sh -c "'$B2CTL_BIN' bucket get $bucket | grep -q 'cors:        webapp'"
    check "[settings] b2ctl updates lifecycle rules" "$B2CTL_BIN" bucket update "$bucket" \
        --lifecycle-rule '{"fileNamePrefix": "tmp/", "daysFromStartingToCancelingUnfinishedLargeFiles": 2}'
    b2 bucket get "$bucket" >"$d/bucket.json" 2>/dev/null
    check "[settings] the tool reads b2ctl's lifecycle rule" py "
import json,sys
r=json.load(open(sys.argv[1]))['lifecycleRules']; print(r)
assert r==[{'daysFromHidingToDeleting': None, 'daysFromStartingToCancelingUnfinishedLargeFiles': 2,
            'daysFromUploadingToHiding': None, 'fileNamePrefix': 'tmp/'}] or (len(r)==1 and r[0]['fileNamePrefix']=='tmp/'
            and r[0].get('daysFromStartingToCancelingUnfinishedLargeFiles')==2), r
" "$d/bucket.json"
    check "[settings] overlapping lifecycle rules refused" fails_with "same files" b2 bucket update \
        --lifecycle-rule '{"fileNamePrefix": "a/", "daysFromHidingToDeleting": 1}' \
        --lifecycle-rule '{"fileNamePrefix": "a/b/", "daysFromHidingToDeleting": 1}' "$bucket"
    check "[settings] notification rule create (tool)" b2 bucket notification-rule create \
        "b2://$bucket/in/" uploads --event-type 'b2:ObjectCreated:*' --webhook-url https://hooks.example/b2
    check "[settings] b2ctl lists the tool's notification rule" sh -c \
        "'$B2CTL_BIN' bucket notification-rules get $bucket | grep -q '^uploads  enabled  prefix=\"in/\"'"
    check "[settings] the tool lists it too" sh -c "'$B2_BIN' bucket notification-rule list --json b2://$bucket | grep -q uploads"
    check "[settings] http webhook refused" fails_with "https" b2 bucket notification-rule create \
        "b2://$bucket/" plain --event-type 'b2:ObjectCreated:*' --webhook-url http://hooks.example/b2
    check "[settings] b2ctl key with two buckets, prefix and expiry" sh -c \
        "'$B2CTL_BIN' bucket create settings-two >/dev/null && '$B2CTL_BIN' key create multi listFiles,readFiles --duration 600 --bucket $bucket --bucket settings-two --name-prefix pub/ >'$d/multi.txt'"
    check "[settings] the tool lists the key's buckets" sh -c "'$B2_BIN' key list --long | grep multi | grep -q settings-two"
    check "[settings] the tool's key with --duration has an expiry (b2ctl key get)" key_expiry_ok "$d/brief.txt"
    echo shared >"$d/shared.txt"
    check "[settings] upload a private file" upload_json "$bucket" "$d/shared.txt" docs/shared.txt "$d/shared.json"
    check "[settings] b2ctl share URL downloads the private file" share_ok "$bucket" docs/shared.txt
    check "[settings] the tool's download auth works with b2ctl's URL" auth_ok "$bucket" docs/shared.txt
}
key_expiry_ok() { # OUTFILE: a key the tool made with --duration shows its expiry in b2ctl
    b2 key create --duration 600 settings-brief listFiles >"$1" &&
        "$B2CTL_BIN" key get "$(cut -d' ' -f1 "$1")" | grep '^expires:'
}
fetch_is() { # URL EXPECTED: a plain GET answers EXPECTED (a line)
    py "import sys,urllib.request as u; b=u.urlopen(sys.argv[1]).read(); print(b); assert b==sys.argv[2].encode()+b'\\n'" "$1" "$2"
}
share_ok() { # BUCKET NAME: b2ctl's share URL downloads the file without credentials
    local url
    url=$("$B2CTL_BIN" file url "b2://$1/$2" --with-auth --duration 60) && fetch_is "$url" shared
}
auth_ok() { # BUCKET NAME: the tool's download authorization with b2ctl's plain URL
    local token url
    token=$(b2 bucket get-download-auth --prefix docs/ --duration 60 "$1") &&
        url=$("$B2CTL_BIN" file url "b2://$1/$2") && fetch_is "$url?Authorization=$token" shared
}

start_sim clean
scenario clean
fidelity
settings
costs_ok() { # b2-sim counted the official tool's calls by B2's classes, and the bytes
    py "
import json,sys,urllib.request as u
c=json.load(u.urlopen(sys.argv[1]+'/_sim/costs'))
t=c['total']; print(t)
assert t['classA']>=10 and t['classB']>=2 and t['classC']>=5, t
assert t['bytesIn']>=7073021 and t['bytesOut']>=7000000, t
for part in ('byKey','byBucket'):
    assert sum(x['bytesIn'] for x in c[part].values())==t['bytesIn'], part
" "$B2_ENVIRONMENT"
}
check "[costs] b2-sim counted the tool's transactions and bytes" costs_ok
stop_sim
check "[costs] b2-sim printed the costs when stopped" \
    grep -q '^costs total: class A [1-9][0-9]*, class B [1-9]' "$WORK/sim-clean.out.err"

start_sim faults --fail-uploads-every 3 --reset-uploads-every 5 --too-many-every 11 \
    --expire-tokens-every 13 --retry-after 1 --seed 7
scenario faults
fault_count() { # KIND: how many faults of that kind b2-sim injected
    py "import json,sys,urllib.request as u; print(json.load(u.urlopen(sys.argv[1]+'/_sim/stats'))['faults'][sys.argv[2]])" \
        "$B2_ENVIRONMENT" "$1"
}
injected() { # KIND: at least one fault of that kind happened
    local n
    n=$(fault_count "$1") && echo "$1: $n" && [ "$n" -gt 0 ]
}
for kind in serviceUnavailable resets tooManyRequests expiredTokens; do
    check "[faults] b2-sim injected $kind" injected "$kind"
done
echo "b2-sim stats: $(py "import urllib.request as u,sys; print(u.urlopen(sys.argv[1]+'/_sim/stats').read().decode())" "$B2_ENVIRONMENT")"
stop_sim

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
