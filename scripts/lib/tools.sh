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

# Debian's Chromium and ChromeDriver, for the test of `bindery run
# --dashboard` in a real browser (tests/src/browser.rs). Installed once;
# `apt-get update` only when the package lists are not there yet.
use_chromium() {
    if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
        return
    fi
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    local install=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver)
    "${install[@]}" >/dev/null || { "${sudo[@]}" apt-get update -q >/dev/null && "${install[@]}" >/dev/null; }
    /usr/bin/chromium --version
}
