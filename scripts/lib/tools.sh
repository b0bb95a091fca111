# The user's own tools, pinned in scripts/requirements-tools.txt, in a venv
# under target/: cargo-lambda (with the zig it builds with). Sourced after
# scripts/lib/aws-emulator.sh, whose `venv` it uses.

# Installs the tools once and puts their bin directory first on PATH, so that
# `cargo lambda` is the pinned one (and its zig the venv's).
# Exports BINDERY_TEST_CARGO_LAMBDA, which the tests read.
use_tools() {
    local dir=target/venv-tools
    venv "$dir" python3 scripts/requirements-tools.txt
    export PATH="$PWD/$dir/bin:$PATH"
    export BINDERY_TEST_CARGO_LAMBDA="$PWD/$dir/bin/cargo-lambda"
    echo "$("$BINDERY_TEST_CARGO_LAMBDA" lambda --version)"
}
