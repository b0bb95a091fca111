//! `list`: Dapr's request `{maxResults, prefix, marker, delimiter}` and its
//! answer, the Go SDK's `ListObjectsOutput` serialised with PascalCase field
//! names (Dapr marshals the SDK struct, which has no JSON tags).

use aws_sdk_s3::operation::list_objects::ListObjectsOutput;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{S3Binding, bad, s3_error};
use crate::output::{InvokeRequest, InvokeResponse, InvokeResult};

const DEFAULT_MAX_RESULTS: i32 = 1000;

#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct ListRequest {
    max_results: i32,
    prefix: Option<String>,
    marker: Option<String>,
    delimiter: Option<String>,
}

/// Absent data, `null` and `{}` all mean the defaults. Anything but an object
/// is refused, as Go's `json.Unmarshal` into Dapr's struct refuses it (serde
/// alone would read `[10]` as `maxResults: 10`).
pub(super) fn list_request(data: &[u8]) -> Result<ListRequest, crate::output::InvokeError> {
    let data = data.trim_ascii();
    if data.is_empty() {
        return Ok(ListRequest::default());
    }
    if !matches!(data.first(), Some(b'{' | b'n')) {
        return Err(bad("list expects {maxResults, prefix, marker, delimiter} or null"));
    }
    let parsed: Option<ListRequest> = serde_json::from_slice(data)
        .map_err(|e| bad(format!("list expects {{maxResults, prefix, marker, delimiter}}: {e}")))?;
    Ok(parsed.unwrap_or_default())
}

impl S3Binding {
    pub(super) async fn list(&self, request: &InvokeRequest) -> InvokeResult {
        let query = list_request(&request.data)?;
        let max = if query.max_results < 1 { DEFAULT_MAX_RESULTS } else { query.max_results };
        let output = self
            .client
            .list_objects()
            .bucket(&self.bucket)
            .max_keys(max)
            .set_prefix(query.prefix)
            .set_marker(query.marker)
            .set_delimiter(query.delimiter)
            .send()
            .await
            .map_err(s3_error)?;
        Ok(Some(InvokeResponse::json(&dapr_shape(&output))))
    }
}

/// The answer in Dapr's shape. Empty lists are `null`, as the Go SDK leaves
/// a list S3 did not send as a nil slice, which Go marshals as `null`.
pub(super) fn dapr_shape(output: &ListObjectsOutput) -> Value {
    let text = |s: Option<&str>| s.map_or(Value::Null, |s| Value::String(s.to_owned()));
    let contents: Vec<Value> = output
        .contents()
        .iter()
        .map(|o| {
            json!({
                "ETag": text(o.e_tag()),
                "Key": text(o.key()),
                "LastModified": o.last_modified().and_then(|t| t.fmt(aws_sdk_s3::primitives::DateTimeFormat::DateTime).ok()),
                "Owner": o.owner().map(|owner| json!({"DisplayName": text(owner.display_name()), "ID": text(owner.id())})),
                "Size": o.size(),
                "StorageClass": text(o.storage_class().map(|c| c.as_str())),
            })
        })
        .collect();
    let prefixes: Vec<Value> = output.common_prefixes().iter().map(|p| json!({ "Prefix": text(p.prefix()) })).collect();
    json!({
        "CommonPrefixes": if prefixes.is_empty() { Value::Null } else { Value::Array(prefixes) },
        "Contents": if contents.is_empty() { Value::Null } else { Value::Array(contents) },
        "Delimiter": text(output.delimiter()),
        "EncodingType": text(output.encoding_type().map(|e| e.as_str())),
        "IsTruncated": output.is_truncated(),
        "Marker": text(output.marker()),
        "MaxKeys": output.max_keys(),
        "Name": text(output.name()),
        "NextMarker": text(output.next_marker()),
        "Prefix": text(output.prefix()),
    })
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::primitives::DateTime;
    use aws_sdk_s3::types::{Object, ObjectStorageClass, Owner};

    use super::*;

    #[test]
    fn requests_default_like_dapr() {
        assert_eq!(list_request(b"").unwrap(), ListRequest::default());
        assert_eq!(list_request(b"null").unwrap(), ListRequest::default());
        let q = list_request(br#"{"maxResults":10,"prefix":"file","marker":"m","delimiter":"/"}"#).unwrap();
        assert_eq!(q.max_results, 10);
        assert_eq!(q.prefix.as_deref(), Some("file"));
        assert!(list_request(br#""a string""#).is_err());
        assert!(list_request(b"{oops").is_err());
        assert!(list_request(b"[1]").is_err());
        assert_eq!(list_request(b" {} ").unwrap(), ListRequest::default());
    }

    #[test]
    fn the_answer_has_daprs_pascal_case_shape() {
        // The example of Dapr's documentation, rebuilt from SDK types.
        let object = Object::builder()
            .e_tag("\"7e94cc9b0f5226557b05a7c2565dd09f\"")
            .key("hpNdFUxruNuwm")
            .last_modified(DateTime::from_secs(1_629_096_254))
            .owner(Owner::builder().display_name("owner name").id("owner id").build())
            .size(6916)
            .storage_class(ObjectStorageClass::Standard)
            .build();
        let output = ListObjectsOutput::builder()
            .contents(object)
            .delimiter("")
            .is_truncated(true)
            .marker("hvlcCQFSOD5TD")
            .max_keys(1)
            .name("mybucketdapr")
            .next_marker("hzaUPWjmvyi9W")
            .prefix("")
            .build();
        let expected: Value = serde_json::from_str(
            r#"{"CommonPrefixes":null,"Contents":[{"ETag":"\"7e94cc9b0f5226557b05a7c2565dd09f\"","Key":"hpNdFUxruNuwm","LastModified":"2021-08-16T06:44:14Z","Owner":{"DisplayName":"owner name","ID":"owner id"},"Size":6916,"StorageClass":"STANDARD"}],"Delimiter":"","EncodingType":null,"IsTruncated":true,"Marker":"hvlcCQFSOD5TD","MaxKeys":1,"Name":"mybucketdapr","NextMarker":"hzaUPWjmvyi9W","Prefix":""}"#,
        )
        .unwrap();
        assert_eq!(dapr_shape(&output), expected);
    }

    #[test]
    fn empty_lists_are_null_as_in_go() {
        let output = ListObjectsOutput::builder().name("b").is_truncated(false).max_keys(1000).build();
        let shape = dapr_shape(&output);
        assert_eq!((&shape["Contents"], &shape["CommonPrefixes"]), (&Value::Null, &Value::Null));
        assert_eq!(shape["Name"], "b");
    }
}
