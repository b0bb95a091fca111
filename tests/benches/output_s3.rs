//! The S3 binding beside a direct `aws-sdk-s3` call to the same emulator:
//! `create` and `get` of 1 KiB and 8 MiB objects. Budget: `invoke` within 5 %
//! of the direct call. Needs the emulator the tests use:
//!
//! ```sh
//! source scripts/lib/aws-emulator.sh && start_moto && cargo bench -p bindery-e2e --bench output_s3
//! ```

use std::hint::black_box;

use aws_sdk_s3::primitives::ByteStream;
use bindery::output::{Bindings, InvokeRequest};
use bindery_e2e::aws::Emulator;
use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn s3(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let emulator = Emulator::from_env();
    let (bucket, client, bindings, _dir) = runtime.block_on(async {
        let bucket = emulator.bucket("bench").await;
        let dir = tempfile::tempdir().expect("temp dir");
        let yaml = format!(
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: objects\nspec:\n  type: bindings.aws.s3\n  \
             version: v1\n  metadata:\n    - name: bucket\n      value: {bucket}\n    - name: forcePathStyle\n      value: \"true\"\n{}",
            emulator.component_metadata()
        );
        std::fs::write(dir.path().join("objects.yaml"), yaml).expect("write the component");
        let bindings = Bindings::load(dir.path()).await.expect("load the component");
        (bucket, emulator.s3().await, bindings, dir)
    });

    for (label, size) in [("1KiB", 1024), ("8MiB", 8 << 20)] {
        // Not a JSON string, so the binding stores it as it is, like the SDK.
        let body = Bytes::from(vec![b'x'; size]);
        let mut group = c.benchmark_group(format!("s3/{label}"));
        group.throughput(Throughput::Bytes(size as u64));
        if size > 1 << 20 {
            group.sample_size(20);
        }
        group.bench_function(BenchmarkId::new("create", "sdk"), |b| {
            b.to_async(&runtime).iter(|| async {
                let put = client.put_object().bucket(&bucket).key("sdk").body(ByteStream::from(body.clone()));
                black_box(put.send().await.expect("put"));
            })
        });
        group.bench_function(BenchmarkId::new("create", "invoke"), |b| {
            b.to_async(&runtime).iter(|| async {
                let request = InvokeRequest::new("create", body.clone()).with_metadata("key", "invoke");
                black_box(bindings.invoke("objects", request).await.expect("create"));
            })
        });
        group.bench_function(BenchmarkId::new("get", "sdk"), |b| {
            b.to_async(&runtime).iter(|| async {
                let object = client.get_object().bucket(&bucket).key("sdk").send().await.expect("get");
                black_box(object.body.collect().await.expect("body").into_bytes());
            })
        });
        group.bench_function(BenchmarkId::new("get", "invoke"), |b| {
            b.to_async(&runtime).iter(|| async {
                let request = InvokeRequest::new("get", Bytes::new()).with_metadata("key", "invoke");
                black_box(bindings.invoke("objects", request).await.expect("get"));
            })
        });
        group.finish();
    }
}

criterion_group!(benches, s3);
criterion_main!(benches);
