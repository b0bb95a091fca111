# Starts the AWS emulators on loopback for the tests, each in a Python venv
# this script creates under target/, and stops them all when the calling
# script exits. Sourced by scripts/test (moto, then LocalStack too) and
# scripts/test-localstack (LocalStack alone). start_moto exports
# BINDERY_TEST_AWS_ENDPOINT and BINDERY_TEST_AWS_EMULATOR, which the tests read
# (tests/src/aws.rs); start_localstack exports BINDERY_LOCALSTACK_ENDPOINT, and
# run_localstack_tests points a test run at it. Nothing here ever talks to real AWS.

# The emulators started here (process ids), stopped on exit.
EMULATOR_PIDS=()
trap stop_emulators EXIT

# The tests run against LocalStack too (cargo test filters): the S3, SQS, SNS
# and Kinesis output bindings, `bindery run` (its SQS and Kinesis pollers) and
# `bindery dlq`. The rest need moto (SES v2, CloudFormation with Lambda;
# DynamoDB, which LocalStack serves through DynamoDB Local, a download it may
# not make here) or no emulator at all.
LOCALSTACK_TESTS=(output_s3:: output_sqs:: output_sns:: output_kinesis:: run_sqs:: run_kinesis:: run:: dlq::)

stop_emulators() {
    local pid running waited=0
    for pid in "${EMULATOR_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    # LocalStack's shutdown can hang on its own metrics calls: give them 10 s in all.
    while ((waited < 50)); do
        running=0
        for pid in "${EMULATOR_PIDS[@]}"; do
            kill -0 "$pid" 2>/dev/null && running=1
        done
        ((running)) || break
        sleep 0.2
        waited=$((waited + 1))
    done
    for pid in "${EMULATOR_PIDS[@]}"; do
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    EMULATOR_PIDS=()
}

free_port() {
    "$1" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# venv DIR PYTHON REQUIREMENTS: creates the venv once and installs the pinned packages.
venv() {
    local dir=$1 python=$2 requirements=$3 stamp=$1/.installed
    if [[ ! -f "$stamp" ]] || ! cmp -s "$requirements" "$stamp"; then
        rm -rf "$dir"
        "$python" -m venv "$dir"
        "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
        cp "$requirements" "$stamp"
    fi
}

# wait_ready PID URL SECONDS LOG: waits until the emulator PID answers URL.
wait_ready() {
    local pid=$1 url=$2 seconds=$3 log=$4
    local deadline=$((SECONDS + seconds))
    until curl --silent --fail --max-time 2 --output /dev/null "$url"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "the emulator exited; its log ($log):" >&2
            tail -n 30 "$log" >&2
            return 1
        fi
        if ((SECONDS > deadline)); then
            echo "the emulator did not answer $url within $seconds s; its log ($log):" >&2
            tail -n 30 "$log" >&2
            return 1
        fi
        sleep 0.2
    done
}

start_moto() {
    local dir=target/venv-moto log=target/moto.log
    venv "$dir" python3 scripts/requirements-moto.txt
    local port
    port=$(free_port "$dir/bin/python")
    "$dir/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
    EMULATOR_PIDS+=($!)
    wait_ready $! "http://127.0.0.1:$port/moto-api/" 60 "$log"
    export BINDERY_TEST_AWS_ENDPOINT="http://127.0.0.1:$port"
    export BINDERY_TEST_AWS_EMULATOR=moto
    echo "moto $(grep -i '^moto==' scripts/requirements-moto.txt | cut -d= -f3) on $BINDERY_TEST_AWS_ENDPOINT"
}

# LocalStack's community edition on the host needs CPython 3.13 (its code uses
# PEP 695 syntax and 3.13's warnings.deprecated). These machines have it under
# pyenv (not selected: python3 is 3.11); Debian 13 has it as /usr/bin/python3.13.
# No package registry the project may use ships one, so it is found, not
# installed; PYTHON313 overrides where it is looked for.
python313() {
    local candidate
    # pyenv's shim for python3.13 exists even when its version is not selected,
    # so each candidate is run, not just looked up.
    for candidate in "${PYTHON313:-}" python3.13 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python3.13 \
        /usr/local/bin/python3.13 /usr/bin/python3.13; do
        if [[ -n "$candidate" ]] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
            command -v "$candidate"
            return
        fi
    done
    echo "LocalStack needs CPython 3.13 (python3.13, pyenv's 3.13.x or /usr/bin/python3.13): install it, or set PYTHON313 to its interpreter" >&2
    return 1
}

start_localstack() {
    local dir=target/venv-localstack log=target/localstack.log python port
    python=$(python313)
    venv "$dir" "$python" scripts/requirements-localstack.txt
    port=$(free_port "$dir/bin/python")
    # hypercorn binds only the address given (the default gateway binds 0.0.0.0);
    # the outbound proxy is a dead loopback port, so LocalStack downloads nothing.
    GATEWAY_SERVER=hypercorn GATEWAY_LISTEN="127.0.0.1:$port" LOCALSTACK_HOST="127.0.0.1:$port" \
        DNS_ADDRESS=0 DISABLE_EVENTS=1 SKIP_SSL_CERT_DOWNLOAD=1 SQS_ENDPOINT_STRATEGY=path PERSISTENCE=0 \
        LOCALSTACK_VOLUME_DIR="$PWD/target/localstack-data" \
        OUTBOUND_HTTP_PROXY=http://127.0.0.1:9 OUTBOUND_HTTPS_PROXY=http://127.0.0.1:9 \
        "$dir/bin/python" -m localstack.runtime.main >"$log" 2>&1 &
    EMULATOR_PIDS+=($!)
    wait_ready $! "http://127.0.0.1:$port/_localstack/health" 120 "$log"
    export BINDERY_LOCALSTACK_ENDPOINT="http://127.0.0.1:$port"
    echo "LocalStack $(grep -o '^localstack-core[^=]*==[^ ]*' scripts/requirements-localstack.txt | cut -d= -f3) on $BINDERY_LOCALSTACK_ENDPOINT"
}

# run_localstack_tests [CARGO TEST ARGS...]: the LocalStack tests
# (LOCALSTACK_TESTS), or those the arguments name, against the LocalStack
# start_localstack started; any other emulator keeps running for other runs.
run_localstack_tests() {
    local filters=("$@")
    ((${#filters[@]})) || filters=("${LOCALSTACK_TESTS[@]}")
    BINDERY_TEST_AWS_ENDPOINT="$BINDERY_LOCALSTACK_ENDPOINT" BINDERY_TEST_AWS_EMULATOR=localstack \
        cargo test --workspace --locked --test e2e -- "${filters[@]}"
}
