//! Generates the gRPC types of the Dapr API subset bindery serves, from
//! `proto/`, with protox (a protobuf compiler in Rust: no `protoc` needed).
//! Only with the `api` feature; the input functions leave it out.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    #[cfg(feature = "api")]
    {
        const PROTO: &str = "proto/dapr/proto/runtime/v1/dapr.proto";
        println!("cargo:rerun-if-changed={PROTO}");
        let descriptors = protox::compile([PROTO], ["proto"])?;
        tonic_prost_build::configure().build_client(true).build_server(true).bytes(".").compile_fds(descriptors)?;
    }
    Ok(())
}
