# The SAM CLI, pinned in scripts/requirements-sam.txt, in a venv of its own
# under target/ (its boto3 and click pins differ from moto's). Sourced after
# scripts/lib/aws-emulator.sh, whose `venv` it uses.

# Installs the SAM CLI once. Exports BINDERY_TEST_SAM, which the tests read.
use_sam() {
    venv target/venv-sam python3 scripts/requirements-sam.txt
    export BINDERY_TEST_SAM="$PWD/target/venv-sam/bin/sam"
    "$BINDERY_TEST_SAM" --version
}

# sam ARGS with no way off this machine: fake credentials, AWS at a dead
# loopback port, no AWS config files, telemetry off, its settings under
# target/sam, and the proxies at a dead loopback port for its weekly PyPI
# version check (and the cargo it runs). The tests run it the same way
# (tests/src/sam.rs).
sam_offline() {
    env AWS_ENDPOINT_URL=http://127.0.0.1:9 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
        AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
        AWS_CONFIG_FILE=/nonexistent/bindery-test/config AWS_SHARED_CREDENTIALS_FILE=/nonexistent/bindery-test/credentials \
        SAM_CLI_TELEMETRY=0 __SAM_CLI_APP_DIR="$PWD/target/sam/config" \
        HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost \
        "$BINDERY_TEST_SAM" "$@"
}

# The example's template as `sam build` builds it, built: `bindery infra`
# with CodeUri at the example's package (SAM runs `cargo lambda build --bin
# task-api-lambda` there, and cargo picks that package) and x86_64 (SAM adds
# --arm64 for arm64, and no aarch64 standard library can be downloaded here).
# SAM always passes --release: scripts/test gives the release profile
# ci-release's settings through Cargo's environment (no fat LTO, 16 codegen
# units), minutes instead of tens on two cores. cargo lambda leaves the binary in
# target/lambda/task-api-lambda/ too, where `cargo lambda deploy` takes it.
# Exports BINDERY_TEST_SAM_BUILD, which the tests read.
sam_build_example() {
    local dir=target/sam
    mkdir -p "$dir"
    target/debug/bindery infra --components examples/task-api/components/aws --binary task-api-lambda \
        --code-uri examples/task-api --arch x86_64 --out "$dir/template.yaml"
    (cd "$dir" && sam_offline build --beta-features)
    # The README's own build of the example for `cargo lambda deploy`, on x86-64: the same build, done.
    cargo lambda build --release --x86-64 -p example-task-api --bin task-api-lambda --locked
    export BINDERY_TEST_SAM_BUILD="$PWD/$dir"
}
