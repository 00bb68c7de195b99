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
    check "[fidelity] file lock accepted and reported" raw_is 200 '"isFileLockEnabled":true' b2_create_bucket \
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

# --- encryption, Object Lock, copies and keys, crossed with b2ctl (issue 14) ------------------
to() { # FILE COMMAND...: runs COMMAND with its output in FILE
    local f=$1
    shift
    "$@" >"$f"
}
json_ok() { # FILE PYTHON_EXPR: the expression holds for the JSON in FILE (as d)
    py "import json,sys; d=json.load(open(sys.argv[1])); e=sys.argv[2]
ok=eval(e); print(d if not ok else 'ok'); sys.exit(0 if ok else 1)" "$1" "$2"
}
ctl_info_ok() { # URI PYTHON_EXPR: on b2ctl's info --json of URI
    local f="$WORK/ctl-info.$RANDOM.json"
    "$B2CTL_BIN" info --json "$1" >"$f" && json_ok "$f" "$2"
}
tool_info_ok() { # URI PYTHON_EXPR: on the tool's file info of URI
    local f="$WORK/tool-info.$RANDOM.json"
    b2 file info "$1" >"$f" && json_ok "$f" "$2"
}
ctl_bucket_ok() { # BUCKET PYTHON_EXPR: on b2ctl's bucket get --json
    local f="$WORK/ctl-bucket.$RANDOM.json"
    "$B2CTL_BIN" bucket get "$1" --json >"$f" && json_ok "$f" "$2"
}
tool_bucket_ok() { # BUCKET PYTHON_EXPR: on the tool's bucket get
    local f="$WORK/tool-bucket.$RANDOM.json"
    b2 bucket get "$1" >"$f" && json_ok "$f" "$2"
}
ctl_get() { # KEY_B64|- URI EXPECTED: b2ctl downloads URI (with that SSE-C key) intact
    local out="$WORK/ctl-dl.$RANDOM" rc
    if [ "$1" = - ]; then
        "$B2CTL_BIN" download "$2" "$out"
    else
        B2_SOURCE_SSE_C_KEY_B64=$1 "$B2CTL_BIN" download --source-server-side-encryption SSE-C "$2" "$out"
    fi && cmp "$out" "$3"
    rc=$?
    rm -f "$out"
    return $rc
}
tool_get() { # KEY_B64|- URI EXPECTED [TEXT]: the tool downloads URI intact (and prints TEXT)
    local out="$WORK/tool-dl.$RANDOM" rc log
    if [ "$1" = - ]; then
        log=$(b2 file download --no-progress "$2" "$out")
    else
        log=$(B2_SOURCE_SSE_C_KEY_B64=$1 "$B2_BIN" file download --no-progress --source-server-side-encryption SSE-C "$2" "$out")
    fi && cmp "$out" "$3" && case "$log" in *"${4:-}"*) true ;; *) echo "$log"; false ;; esac
    rc=$?
    rm -f "$out"
    return $rc
}
slice_is() { # TOOL(ctl|tool) URI EXPECTED_FILE SKIP COUNT: the download is that byte range
    local part="$WORK/slice.$RANDOM" rc
    dd if="$3" of="$part" bs=1 skip="$4" count="$5" 2>/dev/null
    if [ "$1" = ctl ]; then ctl_get - "$2" "$part"; else tool_get - "$2" "$part"; fi
    rc=$?
    rm -f "$part"
    return $rc
}
kept() { # FILE_ID TEXT COMMAND...: COMMAND fails saying TEXT, and the version is still there
    local id=$1
    shift
    fails_with "$@" && "$B2CTL_BIN" info --json "b2id://$id" >/dev/null
}
ctl_text_has() { # URI LINE...: b2ctl info (text) of URI has each LINE
    local out line
    out=$("$B2CTL_BIN" info "$1") || return 1
    echo "$out"
    shift
    for line in "$@"; do
        printf '%s\n' "$out" | grep -qxF "$line" || return 1
    done
}
gone() { # FILE_ID: the version is deleted (b2-sim answers 400 "Invalid fileId")
    fails_with "Invalid fileId" "$B2CTL_BIN" info --json "b2id://$1"
}
sim_now() { # the simulator's clock, ms
    py "import json,sys,urllib.request as u; print(json.load(u.urlopen(sys.argv[1]+'/_sim/clock'))['nowMillis'])" "$B2_ENVIRONMENT"
}
advance_clock() { # SECONDS
    py "import sys,urllib.request as u; print(u.urlopen(u.Request(sys.argv[1]+'/_sim/clock?advanceSeconds='+sys.argv[2], method='POST')).read().decode())" \
        "$B2_ENVIRONMENT" "$1"
}
key_md5() { # KEY_B64: base64 of the key's MD5, as B2 reports customerKeyMd5
    py "import base64,hashlib,sys; print(base64.b64encode(hashlib.md5(base64.b64decode(sys.argv[1])).digest()).decode())" "$1"
}
id_of() { # JSON_FILE: its fileId
    json_field "$1" fileId 2>/dev/null
}

protect() { # SSE-C / SSE-B2, retention, legal hold, custom upload timestamps
    local bucket=protect-bucket d="$WORK/protect"
    mkdir -p "$d"
    B2_ACCOUNT_INFO="$WORK/account-protect.sqlite"
    b2 account authorize "$B2_APPLICATION_KEY_ID" "$B2_APPLICATION_KEY" >/dev/null
    head -c 5000 /dev/urandom >"$d/small.bin"
    head -c 500000 /dev/urandom >"$d/medium.bin"
    head -c 7000000 /dev/urandom >"$d/large.bin"
    local k1 k2 md5 until
    k1=$(head -c 32 /dev/urandom | base64)
    k2=$(head -c 32 /dev/urandom | base64)
    md5=$(key_md5 "$k1")
    until=$(($(sim_now) + 3600000))
    local ssec="d['serverSideEncryption']=={'algorithm':'AES256','customerKeyMd5':'$md5','mode':'SSE-C'}"
    # The tool masks the key's MD5 in its output ('******'); its download with the key checks it.
    local tool_ssec="d['serverSideEncryption']['mode']=='SSE-C' and d['serverSideEncryption']['algorithm']=='AES256'"

    # Encryption.
    check "[protect] tool creates a bucket with file lock" b2 bucket create --file-lock-enabled "$bucket" allPrivate
    check "[protect] b2ctl reads file lock enabled" ctl_bucket_ok "$bucket" \
        "d['fileLockConfiguration']['value']=={'defaultRetention':{'mode':None,'period':None},'isFileLockEnabled':True}"
    check "[protect] tool uploads with SSE-C" to "$d/t-ssec.json" env B2_DESTINATION_SSE_C_KEY_B64="$k1" \
        "$B2_BIN" file upload --no-progress --quiet --destination-server-side-encryption SSE-C "$bucket" "$d/small.bin" t-ssec.bin
    check "[protect] b2ctl info shows the tool's SSE-C and key MD5" ctl_info_ok "b2://$bucket/t-ssec.bin" "$ssec"
    check "[protect] b2ctl downloads the tool's SSE-C file with the key" ctl_get "$k1" "b2://$bucket/t-ssec.bin" "$d/small.bin"
    check "[protect] b2ctl without the key is refused" fails_with 403 ctl_get - "b2://$bucket/t-ssec.bin" "$d/small.bin"
    check "[protect] b2ctl with another key is refused" fails_with 403 ctl_get "$k2" "b2://$bucket/t-ssec.bin" "$d/small.bin"
    check "[protect] b2ctl uploads with SSE-C" to "$d/c-ssec.id" env B2_DESTINATION_SSE_C_KEY_B64="$k1" \
        "$B2CTL_BIN" upload --destination-server-side-encryption SSE-C "$bucket" "$d/small.bin" c-ssec.bin
    check "[protect] tool info shows b2ctl's SSE-C" tool_info_ok "b2id://$(cat "$d/c-ssec.id")" "$tool_ssec"
    check "[protect] tool downloads b2ctl's SSE-C file, reports SSE-C" tool_get "$k1" "b2://$bucket/c-ssec.bin" "$d/small.bin" "mode=SSE-C"
    check "[protect] tool without the key is refused" fails_with "Wrong or no SSE-C key" \
        tool_get - "b2://$bucket/c-ssec.bin" "$d/small.bin"
    check "[protect] b2ctl uploads a large file with SSE-C (parts)" to "$d/c-large.id" env B2_DESTINATION_SSE_C_KEY_B64="$k1" \
        "$B2CTL_BIN" upload --part-size 100000 --destination-server-side-encryption SSE-C "$bucket" "$d/medium.bin" c-large.bin
    check "[protect] tool info: b2ctl's large file is SSE-C, in parts" tool_info_ok "b2id://$(cat "$d/c-large.id")" \
        "$tool_ssec and 'large_file_sha1' in d['fileInfo']"
    check "[protect] tool downloads b2ctl's large SSE-C file" tool_get "$k1" "b2://$bucket/c-large.bin" "$d/medium.bin" "mode=SSE-C"
    check "[protect] tool creates a bucket with default SSE-B2 (explicit)" b2 bucket create \
        --default-server-side-encryption SSE-B2 --default-server-side-encryption-algorithm AES256 protect-sseb2 allPrivate
    check "[protect] b2ctl reads it" sh -c "'$B2CTL_BIN' bucket get protect-sseb2 | grep -qx 'encryption:  SSE-B2'"
    check "[protect] b2ctl uploads with explicit SSE-B2" to "$d/c-sseb2.id" \
        "$B2CTL_BIN" upload --destination-server-side-encryption SSE-B2 "$bucket" "$d/small.bin" c-sseb2.bin
    check "[protect] tool info shows SSE-B2" tool_info_ok "b2id://$(cat "$d/c-sseb2.id")" \
        "d['serverSideEncryption']=={'algorithm':'AES256','mode':'SSE-B2'}"

    # Retention and legal hold.
    check "[protect] tool uploads a large SSE-C file with governance and a legal hold" to "$d/t-gov.json" \
        env B2_DESTINATION_SSE_C_KEY_B64="$k1" "$B2_BIN" file upload --no-progress --quiet \
        --destination-server-side-encryption SSE-C --file-retention-mode governance --retain-until "$until" \
        --legal-hold on "$bucket" "$d/large.bin" locked/t-gov.bin
    local gov
    gov=$(id_of "$d/t-gov.json")
    check "[protect] b2ctl info shows its retention, hold, SSE-C, parts" ctl_info_ok "b2id://$gov" \
        "d['fileRetention']=={'isClientAuthorizedToRead':True,'value':{'mode':'governance','retainUntilTimestamp':$until}} and d['legalHold']=={'isClientAuthorizedToRead':True,'value':'on'} and $ssec and 'large_file_sha1' in d['fileInfo']"
    check "[protect] b2ctl info (text) shows them too" ctl_text_has "b2id://$gov" \
        "encryption:  SSE-C (key MD5 $md5)" "retention:   governance until $until ms" "legal hold:  on"
    check "[protect] b2ctl downloads it with the key" ctl_get "$k1" "b2id://$gov" "$d/large.bin"
    check "[protect] b2ctl rm refused under the legal hold" kept "$gov" "legal hold" "$B2CTL_BIN" rm "$bucket" locked/t-gov.bin
    check "[protect] tool rm refused under the legal hold" kept "$gov" "failed" b2 rm --no-progress "b2id://$gov"
    check "[protect] b2ctl file update --legal-hold off" "$B2CTL_BIN" file update "b2id://$gov" --legal-hold off
    check "[protect] tool reads the hold off, retention kept" tool_info_ok "b2id://$gov" \
        "d['legalHold']=='off' and d['fileRetention']=={'mode':'governance','retainUntilTimestamp':$until}"
    check "[protect] b2ctl rm refused under governance" kept "$gov" "governance" "$B2CTL_BIN" rm "$bucket" locked/t-gov.bin
    check "[protect] b2ctl cannot remove governance without bypass" kept "$gov" "bypassGovernance" \
        "$B2CTL_BIN" file update "b2id://$gov" --file-retention-mode none
    check "[protect] tool cannot shorten governance without bypass" kept "$gov" "bypassGovernance" \
        b2 file update --file-retention-mode governance --retain-until $((until - 1000)) "b2id://$gov"
    check "[protect] tool shortens governance with --bypass-governance" \
        b2 file update --file-retention-mode governance --retain-until $((until - 1000)) --bypass-governance "b2id://$gov"
    check "[protect] b2ctl reads the shortened retention" ctl_info_ok "b2id://$gov" \
        "d['fileRetention']['value']=={'mode':'governance','retainUntilTimestamp':$((until - 1000))}"
    check "[protect] tool rm --bypass-governance deletes it" b2 rm --no-progress --bypass-governance "b2id://$gov"
    check "[protect] the governed version is gone" gone "$gov"

    check "[protect] b2ctl uploads with compliance, hold off" to "$d/c-comp.id" "$B2CTL_BIN" upload \
        --file-retention-mode compliance --retain-until "$until" --legal-hold off "$bucket" "$d/small.bin" c-comp.bin
    local comp
    comp=$(cat "$d/c-comp.id")
    check "[protect] tool reads b2ctl's compliance and hold off" tool_info_ok "b2id://$comp" \
        "d['fileRetention']=={'mode':'compliance','retainUntilTimestamp':$until} and d['legalHold']=='off'"
    check "[protect] tool cannot shorten compliance, even with bypass" kept "$comp" "compliance" \
        b2 file update --file-retention-mode compliance --retain-until $((until - 1000)) --bypass-governance "b2id://$comp"
    check "[protect] b2ctl cannot turn compliance into governance" kept "$comp" "never shortened" \
        "$B2CTL_BIN" file update "b2id://$comp" --file-retention-mode governance --retain-until $((until + 9000)) --bypass-governance
    check "[protect] tool extends compliance" b2 file update --file-retention-mode compliance --retain-until $((until + 5000)) "b2id://$comp"
    check "[protect] b2ctl reads the extended compliance" ctl_info_ok "b2id://$comp" \
        "d['fileRetention']['value']=={'mode':'compliance','retainUntilTimestamp':$((until + 5000))}"
    check "[protect] tool rm --bypass-governance refused under compliance" kept "$comp" "failed" \
        b2 rm --no-progress --bypass-governance "b2id://$comp"
    check "[protect] b2ctl rm refused under compliance" kept "$comp" "compliance" "$B2CTL_BIN" rm "$bucket" c-comp.bin
    check "[protect] b2ctl retention on a bucket without file lock refused" fails_with "not enabled" \
        sh -c "'$B2CTL_BIN' bucket create protect-plain >/dev/null &&
        '$B2CTL_BIN' upload --file-retention-mode governance --retain-until $until protect-plain '$d/small.bin' x.bin"

    # A bucket's default retention.
    check "[protect] tool sets a default retention (governance, 1 day)" sh -c \
        "'$B2_BIN' bucket create --file-lock-enabled protect-default allPrivate >/dev/null &&
         '$B2_BIN' bucket update --default-retention-mode governance --default-retention-period '1 days' protect-default >/dev/null"
    check "[protect] b2ctl reads the default retention" ctl_bucket_ok protect-default \
        "d['fileLockConfiguration']['value']['defaultRetention']=={'mode':'governance','period':{'duration':1,'unit':'days'}}"
    check "[protect] b2ctl upload without settings" to "$d/c-def.id" "$B2CTL_BIN" upload protect-default "$d/small.bin" def.bin
    check "[protect] tool reads the default retention on b2ctl's file" tool_info_ok "b2id://$(cat "$d/c-def.id")" \
        "d['fileRetention']['mode']=='governance' and abs(d['fileRetention']['retainUntilTimestamp']-d['uploadTimestamp']-86400000)<5000"
    local def
    def=$(cat "$d/c-def.id")
    check "[protect] tool puts a legal hold on b2ctl's file" b2 file update --legal-hold on "b2id://$def"
    check "[protect] b2ctl reads the tool's legal hold" ctl_info_ok "b2id://$def" "d['legalHold']['value']=='on'"
    check "[protect] b2ctl rm refused under the tool's hold" kept "$def" "legal hold" "$B2CTL_BIN" rm protect-default def.bin
    # b2ctl removes the retention itself, with the bypass (rm --bypass-governance is checked below).
    check "[protect] b2ctl removes governance (bypass) and the hold" "$B2CTL_BIN" file update "b2id://$def" \
        --file-retention-mode none --bypass-governance --legal-hold off
    check "[protect] tool reads no retention, hold off" tool_info_ok "b2id://$def" \
        "d['fileRetention']=={'mode':None,'retainUntilTimestamp':None} and d['legalHold']=='off'"
    check "[protect] b2ctl deletes it then" "$B2CTL_BIN" rm protect-default def.bin
    check "[protect] the unlocked version is gone" gone "$def"
    check "[protect] tool sets compliance for 1 year as the default" b2 bucket update \
        --default-retention-mode compliance --default-retention-period '1 years' protect-default
    check "[protect] b2ctl reads it" ctl_bucket_ok protect-default \
        "d['fileLockConfiguration']['value']['defaultRetention']=={'mode':'compliance','period':{'duration':1,'unit':'years'}}"
    check "[protect] tool clears the default retention" b2 bucket update --default-retention-mode none protect-default
    check "[protect] b2ctl reads no default retention" ctl_bucket_ok protect-default \
        "d['fileLockConfiguration']['value']=={'defaultRetention':{'mode':None,'period':None},'isFileLockEnabled':True}"
    check "[protect] b2ctl creates a bucket with file lock" "$B2CTL_BIN" bucket create protect-ctl-lock --file-lock-enabled
    check "[protect] b2ctl sets a default retention" "$B2CTL_BIN" bucket update protect-ctl-lock \
        --default-retention-mode governance --default-retention-period "3 days"
    check "[protect] tool reads b2ctl's file lock and default retention" tool_bucket_ok protect-ctl-lock \
        "d['isFileLockEnabled'] is True and d['defaultRetention']=={'mode':'governance','period':{'duration':3,'unit':'days'}}"
    check "[protect] tool upload gets b2ctl's default retention" to "$d/t-ctl-def.json" b2 file upload --no-progress --quiet \
        protect-ctl-lock "$d/small.bin" ctl-def.bin
    local ctldef
    ctldef=$(id_of "$d/t-ctl-def.json")
    check "[protect] b2ctl rm refused under that governance retention" kept "$ctldef" "governance" \
        "$B2CTL_BIN" rm protect-ctl-lock ctl-def.bin
    check "[protect] b2ctl rm --bypass-governance deletes it" "$B2CTL_BIN" rm --bypass-governance "b2id://$ctldef"
    check "[protect] that version is gone" gone "$ctldef"
    check "[protect] tool enables file lock on an existing bucket" b2 bucket update --file-lock-enabled protect-plain
    check "[protect] b2ctl reads it enabled" ctl_bucket_ok protect-plain \
        "d['fileLockConfiguration']['value']['isFileLockEnabled'] is True"

    # Custom upload timestamps (b2-sim runs with --custom-upload-timestamps).
    check "[protect] tool uploads with a custom timestamp" to "$d/t-ts.json" b2 file upload --no-progress --quiet \
        --custom-upload-timestamp 1600000000000 "$bucket" "$d/small.bin" t-ts.bin
    check "[protect] b2ctl reads the tool's custom timestamp" ctl_info_ok "b2id://$(id_of "$d/t-ts.json")" \
        "d['uploadTimestamp']==1600000000000"
    check "[protect] b2ctl uploads with a custom timestamp" to "$d/c-ts.id" "$B2CTL_BIN" upload \
        --custom-upload-timestamp 1500000000000 "$bucket" "$d/small.bin" c-ts.bin
    check "[protect] tool reads b2ctl's custom timestamp" tool_info_ok "b2id://$(cat "$d/c-ts.id")" \
        "d['uploadTimestamp']==1500000000000"

    # Time passes: the compliance retention ends (test clock moved 2 h).
    check "[protect] b2-sim clock moved 2 h" advance_clock 7200
    check "[protect] b2ctl deletes the compliance file once it ends" "$B2CTL_BIN" rm "$bucket" c-comp.bin
    check "[protect] the compliance version is gone" gone "$comp"
}

copies() { # server-side copies: ranges, metadata, other buckets, parts, SSE-C, Object Lock
    local d="$WORK/copy"
    mkdir -p "$d"
    B2_ACCOUNT_INFO="$WORK/account-copy.sqlite"
    b2 account authorize "$B2_APPLICATION_KEY_ID" "$B2_APPLICATION_KEY" >/dev/null
    head -c 300000 /dev/urandom >"$d/src.bin"
    head -c 5000 /dev/urandom >"$d/small.bin"
    local k1 k2 until
    k1=$(head -c 32 /dev/urandom | base64)
    k2=$(head -c 32 /dev/urandom | base64)
    until=$(($(sim_now) + 3600000))
    b2 bucket create copy-src allPrivate >/dev/null
    b2 bucket create copy-dst allPrivate >/dev/null
    check "[copy] tool uploads the source (text/plain, color=blue)" to "$d/src.json" b2 file upload --no-progress --quiet \
        --content-type text/plain --info color=blue copy-src "$d/src.bin" src.bin
    check "[copy] b2ctl copies a range to another bucket" to "$d/range.json" \
        "$B2CTL_BIN" file copy b2://copy-src/src.bin b2://copy-dst/range.bin --range 1000-1999
    check "[copy] tool downloads exactly that range" slice_is tool b2://copy-dst/range.bin "$d/src.bin" 1000 1000
    check "[copy] b2ctl copy keeps the metadata" "$B2CTL_BIN" file copy "b2id://$(id_of "$d/src.json")" b2://copy-dst/keep.bin
    check "[copy] tool reads the kept metadata" tool_info_ok b2://copy-dst/keep.bin \
        "d['contentType']=='text/plain' and d['fileInfo'].get('color')=='blue' and d['size']==300000"
    check "[copy] b2ctl copy replaces the metadata" "$B2CTL_BIN" file copy b2://copy-src/src.bin b2://copy-dst/meta.bin \
        --content-type application/x-test --info shade=dark
    check "[copy] tool reads the replaced metadata" tool_info_ok b2://copy-dst/meta.bin \
        "d['contentType']=='application/x-test' and d['fileInfo']=={'shade':'dark'}"
    check "[copy] b2ctl copies in parts (cutoff 150 kB, 100 kB parts)" "$B2CTL_BIN" file copy \
        b2://copy-src/src.bin b2://copy-dst/parts.bin --cutoff 150000 --part-size 100000
    check "[copy] tool: the copy is a large file, intact" sh -c \
        "'$B2_BIN' file info b2://copy-dst/parts.bin | grep -q '\"large_file_sha1\"'"
    check "[copy] tool downloads the copy in parts" tool_get - b2://copy-dst/parts.bin "$d/src.bin"
    check "[copy] tool copies a range with new metadata" b2 file server-side-copy --range 5,104 \
        --content-type text/x-range --info k=v b2://copy-src/src.bin b2://copy-dst/t-range.bin
    check "[copy] b2ctl downloads exactly that range" slice_is ctl b2://copy-dst/t-range.bin "$d/src.bin" 5 100
    check "[copy] b2ctl reads the tool's new metadata" ctl_info_ok b2://copy-dst/t-range.bin \
        "d['contentType']=='text/x-range' and d['fileInfo']=={'k':'v'} and d['contentLength']==100"

    # SSE-C copies (the tool's flags; b2ctl reads the results).
    check "[copy] tool uploads an SSE-C source" to "$d/ssec.json" env B2_DESTINATION_SSE_C_KEY_B64="$k1" \
        "$B2_BIN" file upload --no-progress --quiet --destination-server-side-encryption SSE-C copy-src "$d/small.bin" ssec.bin
    local ssec_id
    ssec_id=$(id_of "$d/ssec.json")
    check "[copy] tool re-keys an SSE-C file in a copy" env B2_SOURCE_SSE_C_KEY_B64="$k1" B2_DESTINATION_SSE_C_KEY_B64="$k2" \
        "$B2_BIN" file server-side-copy --fetch-metadata --source-server-side-encryption SSE-C \
        --destination-server-side-encryption SSE-C "b2id://$ssec_id" b2://copy-dst/rekeyed.bin
    check "[copy] b2ctl info: the copy has the new key's MD5" ctl_info_ok b2://copy-dst/rekeyed.bin \
        "d['serverSideEncryption']=={'algorithm':'AES256','customerKeyMd5':'$(key_md5 "$k2")','mode':'SSE-C'}"
    check "[copy] b2ctl downloads the copy with the new key" ctl_get "$k2" b2://copy-dst/rekeyed.bin "$d/small.bin"
    check "[copy] b2ctl with the old key is refused" fails_with 403 ctl_get "$k1" b2://copy-dst/rekeyed.bin "$d/small.bin"
    check "[copy] tool copies SSE-C to SSE-B2" env B2_SOURCE_SSE_C_KEY_B64="$k1" "$B2_BIN" file server-side-copy \
        --fetch-metadata --source-server-side-encryption SSE-C "b2id://$ssec_id" b2://copy-dst/plain.bin
    check "[copy] b2ctl downloads it without a key, SSE-B2" sh -c "
        '$B2CTL_BIN' info --json b2://copy-dst/plain.bin | grep -q '\"serverSideEncryption\":{\"algorithm\":\"AES256\",\"mode\":\"SSE-B2\"}'"
    check "[copy] ... and intact" ctl_get - b2://copy-dst/plain.bin "$d/small.bin"
    check "[copy] tool copy without the source key refused" fails_with "Wrong or no SSE-C key" \
        b2 file server-side-copy --fetch-metadata "b2id://$ssec_id" b2://copy-dst/nokey.bin
    check "[copy] b2ctl copy without the source key refused" fails_with "SSE-C" \
        "$B2CTL_BIN" file copy "b2id://$ssec_id" b2://copy-dst/nokey.bin
    # Object Lock on a copy.
    b2 bucket create --file-lock-enabled copy-locked allPrivate >/dev/null
    check "[copy] tool copies with retention and a legal hold" to "$d/locked.json" b2 file server-side-copy \
        --file-retention-mode governance --retain-until "$until" --legal-hold on \
        b2://copy-src/src.bin b2://copy-locked/held.bin
    check "[copy] b2ctl reads the copy's retention and hold" ctl_info_ok b2://copy-locked/held.bin \
        "d['fileRetention']['value']=={'mode':'governance','retainUntilTimestamp':$until} and d['legalHold']['value']=='on'"
    check "[copy] b2ctl rm refused on the held copy" kept "$(id_of "$d/locked.json")" "legal hold" \
        "$B2CTL_BIN" rm copy-locked held.bin
}

keys() { # every capability B2 has, restrictions, and what the capabilities allow
    local d="$WORK/keys" bucket=keys-locked
    mkdir -p "$d"
    B2_ACCOUNT_INFO="$WORK/account-keys.sqlite"
    b2 account authorize "$B2_APPLICATION_KEY_ID" "$B2_APPLICATION_KEY" >/dev/null
    local bucket_caps=listAllBucketNames,listBuckets,readBuckets,readBucketEncryption,writeBucketEncryption,readBucketRetentions,writeBucketRetentions,listFiles,readFiles,shareFiles,writeFiles,deleteFiles,readFileLegalHolds,writeFileLegalHolds,readFileRetentions,writeFileRetentions,bypassGovernance,readBucketReplications,writeBucketReplications,readBucketNotifications,writeBucketNotifications,readBucketLifecycleRules,writeBucketLifecycleRules
    local all_caps=listKeys,writeKeys,deleteKeys,writeBuckets,deleteBuckets,$bucket_caps
    local now bucket_id
    now=$(sim_now)
    b2 bucket create --file-lock-enabled "$bucket" allPrivate >/dev/null
    bucket_id=$("$B2CTL_BIN" bucket get "$bucket" --json | py "import json,sys; print(json.load(sys.stdin)['bucketId'])")
    check "[keys] tool: bucket key with every bucket capability, prefix, 1 h" to "$d/tool.txt" b2 key create \
        --bucket "$bucket" --name-prefix locked/ --duration 3600 keys-tool "$bucket_caps"
    check "[keys] b2ctl key get shows all of it" key_get_is "$(cut -d' ' -f1 "$d/tool.txt")" keys-tool "$bucket_caps" \
        "$bucket_id" locked/ $((now + 3600000))
    check "[keys] b2ctl: key with all 28 capabilities, 10 min" to "$d/ctl.txt" \
        "$B2CTL_BIN" key create keys-ctl "$all_caps" --duration 600
    check "[keys] tool lists all 28 capabilities" tool_key_caps_are keys-ctl "$all_caps"
    check "[keys] b2ctl key list shows them" sh -c "'$B2CTL_BIN' key list | grep -qx '$(cut -d' ' -f1 "$d/ctl.txt")  keys-ctl  $all_caps'"
    check "[keys] tool --all-capabilities: b2ctl key get shows those 28" sh -c \
        "'$B2_BIN' key create --all-capabilities keys-all >'$d/all.txt' &&
         '$B2CTL_BIN' key get \$(cut -d' ' -f1 '$d/all.txt') >'$d/all.get'"
    check "[keys] ... exactly" py "import sys
caps=[l.split(':',1)[1].strip() for l in open(sys.argv[1]) if l.startswith('capabilities:')][0].split(',')
assert sorted(caps)==sorted(sys.argv[2].split(',')), caps" "$d/all.get" "$all_caps"
    check "[keys] tool --all-capabilities on one bucket refused (account capabilities)" fails_with \
        "cannot have the" b2 key create --all-capabilities --bucket "$bucket" keys-all-bucket
    check "[keys] tool refuses an unknown capability" fails_with "unknown capability" b2 key create keys-bogus listFiles,makeCoffee
    check "[keys] b2ctl warns, b2-sim refuses it" fails_with "unknown capability: makeCoffee" \
        "$B2CTL_BIN" key create keys-bogus listFiles,makeCoffee
    # What the capabilities do: bypassGovernance, read*Retentions/LegalHolds, read*Replications,
    # read*Notifications.
    head -c 1000 /dev/urandom >"$d/f.bin"
    local until=$((now + 3600000)) f1 f2
    b2 file upload --no-progress --quiet --file-retention-mode governance --retain-until "$until" \
        "$bucket" "$d/f.bin" locked/a.bin >"$d/a.json"
    b2 file upload --no-progress --quiet --file-retention-mode governance --retain-until "$until" \
        "$bucket" "$d/f.bin" locked/b.bin >"$d/b.json"
    f1=$(id_of "$d/a.json")
    f2=$(id_of "$d/b.json")
    "$B2CTL_BIN" key create keys-plain listBuckets,listFiles,readFiles,deleteFiles --bucket "$bucket" >"$d/plain.txt"
    check "[keys] without bypassGovernance, tool rm --bypass-governance refused" kept "$f1" "failed" \
        as_key "$d/plain.txt" rm --no-progress --bypass-governance "b2id://$f1"
    check "[keys] with the tool's key (bypassGovernance), it deletes" as_key "$d/tool.txt" rm --no-progress \
        --bypass-governance "b2id://$f1"
    check "[keys] ... the version is gone" gone "$f1"
    check "[keys] the tool's key cannot touch names outside its prefix" fails_with "unauthorized" \
        as_key "$d/tool.txt" file upload --no-progress --quiet "$bucket" "$d/f.bin" other.bin
    check "[keys] b2ctl as a key without read*Retentions: fields not readable" as_ctl "$d/plain.txt" \
        ctl_info_ok "b2id://$f2" \
        "d['fileRetention']=={'isClientAuthorizedToRead':False,'value':None} and d['legalHold']=={'isClientAuthorizedToRead':False,'value':None}"
    check "[keys] ... and b2ctl info (text) says so" as_ctl "$d/plain.txt" ctl_text_has "b2id://$f2" \
        "retention:   (not readable)" "legal hold:  (not readable)"
    check "[keys] b2ctl as the tool's key: retention readable" as_ctl "$d/tool.txt" ctl_info_ok "b2id://$f2" \
        "d['fileRetention']['value']=={'mode':'governance','retainUntilTimestamp':$until}"
    check "[keys] without readBucketReplications/Retentions: bucket fields hidden" as_ctl "$d/plain.txt" \
        ctl_bucket_ok "$bucket" \
        "d['replicationConfiguration']['isClientAuthorizedToRead'] is False and d['fileLockConfiguration']['isClientAuthorizedToRead'] is False"
    check "[keys] with them (the tool's key): readable" as_ctl "$d/tool.txt" ctl_bucket_ok "$bucket" \
        "d['replicationConfiguration']['isClientAuthorizedToRead'] is True and d['fileLockConfiguration']['value']['isFileLockEnabled'] is True"
    check "[keys] without readBucketNotifications: b2ctl refused" fails_with "401" \
        as_ctl "$d/plain.txt" "$B2CTL_BIN" bucket notification-rules get "$bucket"
    check "[keys] with it (the tool's key): b2ctl reads the rules" as_ctl "$d/tool.txt" \
        "$B2CTL_BIN" bucket notification-rules get "$bucket"
}
key_get_is() { # KEY_ID NAME CAPS BUCKET_ID PREFIX EXPIRES_MS: b2ctl key get shows these (expiry ±60 s)
    local out
    out=$("$B2CTL_BIN" key get "$1") || return 1
    echo "$out"
    py "import sys
f=dict(l.split(':',1) for l in sys.argv[1].splitlines())
f={k.strip():v.strip() for k,v in f.items()}
assert f['name']==sys.argv[2], f
assert set(f['capabilities'].split(','))==set(sys.argv[3].split(',')), f
assert f['buckets']==sys.argv[4] and f['name prefix']==sys.argv[5], f
assert abs(int(f['expires'].split()[0])-int(sys.argv[6]))<60000, f
" "$out" "$2" "$3" "$4" "$5" "$6"
}
tool_key_caps_are() { # NAME CAPS: the tool's key list --long shows exactly CAPS for NAME
    local line
    line=$(b2 key list --long | grep " $1 ") || return 1
    echo "$line"
    py "import sys; got=set(sys.argv[1].split()[-1].split(',')); want=set(sys.argv[2].split(','))
assert got==want, (got^want)" "$line" "$2"
}
as_ctl() { # KEYFILE COMMAND...: COMMAND with b2ctl authorized as the key in KEYFILE
    (
        read -r B2_APPLICATION_KEY_ID B2_APPLICATION_KEY <"$1"
        export B2_APPLICATION_KEY_ID B2_APPLICATION_KEY
        "${@:2}"
    )
}

start_sim clean --custom-upload-timestamps
scenario clean
fidelity
settings
protect
copies
keys
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
