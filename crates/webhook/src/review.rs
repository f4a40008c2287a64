//! AdmissionReview v1 in, as the API server sends it, and out (kube-rs's types,
//! `kube::core::admission`).
//!
//! The objects are kept as the JSON the API server sent: the mutation's operations must apply
//! to exactly that, and the linter reads JSON anyway.

use base64::Engine as _;
use kube::core::DynamicObject;
use kube::core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview, Operation};
use serde_json::Value;
use std::time::Duration;

use crate::check::Answer;

/// One decoded review.
#[derive(Debug)]
pub struct Admission {
    /// The request, its objects taken out.
    pub request: AdmissionRequest<DynamicObject>,
    /// The object being admitted (`None` for DELETE and CONNECT).
    pub object: Option<Value>,
    /// The object before an UPDATE (or the one a DELETE removes).
    pub old_object: Option<Value>,
}

impl Admission {
    /// `Kind namespace/name` for messages.
    #[must_use]
    pub fn describe(&self) -> String {
        let r = &self.request;
        let name = if r.name.is_empty() {
            self.object
                .as_ref()
                .and_then(|o| o.pointer("/metadata/generateName"))
                .and_then(Value::as_str)
                .map_or_else(|| "(unnamed)".to_string(), |g| format!("{g}*"))
        } else {
            r.name.clone()
        };
        match &r.namespace {
            Some(ns) => format!("{} {ns}/{name}", r.kind.kind),
            None => format!("{} {name}", r.kind.kind),
        }
    }

    /// Whether there is an object to check: CREATE and UPDATE of the object itself (not a
    /// subresource such as `status` or `scale`).
    #[must_use]
    pub fn checked(&self) -> bool {
        matches!(
            self.request.operation,
            Operation::Create | Operation::Update
        ) && self.request.sub_resource.is_none()
            && self.object.is_some()
    }
}

/// Decodes an AdmissionReview v1 request body.
pub fn decode(body: &[u8]) -> Result<Admission, String> {
    let mut value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let api_version = value.get("apiVersion").and_then(Value::as_str);
    let kind = value.get("kind").and_then(Value::as_str);
    if (api_version, kind) != (Some("admission.k8s.io/v1"), Some("AdmissionReview")) {
        return Err(format!(
            "expected an admission.k8s.io/v1 AdmissionReview, got apiVersion {} kind {} \
             (the webhook configuration must say admissionReviewVersions: [v1])",
            api_version.unwrap_or("(none)"),
            kind.unwrap_or("(none)")
        ));
    }
    let mut take = |field: &str| {
        value
            .get_mut("request")
            .and_then(Value::as_object_mut)
            .and_then(|r| r.remove(field))
            .filter(|v| !v.is_null())
    };
    let object = take("object");
    let old_object = take("oldObject");
    for (name, object) in [("object", &object), ("oldObject", &old_object)] {
        if object.as_ref().is_some_and(|o| !o.is_object()) {
            return Err(format!("request.{name} is not a JSON object"));
        }
    }
    let review: AdmissionReview<DynamicObject> =
        serde_json::from_value(value).map_err(|e| format!("not an AdmissionReview: {e}"))?;
    let request: AdmissionRequest<DynamicObject> = review
        .try_into()
        .map_err(|_| "the AdmissionReview has no request".to_string())?;
    if request.uid.is_empty() {
        return Err("request.uid is empty".into());
    }
    Ok(Admission {
        request,
        object,
        old_object,
    })
}

/// The AdmissionReview answering `admission` with `answer`.
#[must_use]
pub fn encode(admission: &Admission, answer: &Answer) -> Vec<u8> {
    let mut response = AdmissionResponse::from(&admission.request);
    if !answer.allowed {
        response = response.deny(answer.message.clone().unwrap_or_default());
        response.result.code = 403;
        response.result.reason = "Forbidden".into();
    }
    if !answer.warnings.is_empty() {
        response.warnings = Some(answer.warnings.clone());
    }
    let mut review =
        serde_json::to_value(response.into_review()).expect("an AdmissionReview serializes");
    if answer.allowed {
        // kube-rs writes `status: {}` for an admission; say nothing instead.
        if let Some(response) = review["response"].as_object_mut() {
            response.remove("status");
        }
    }
    if let Some(operations) = answer.patch.as_ref().filter(|o| !o.is_empty()) {
        // The API server takes `patch` as Go's `[]byte` in JSON: a base64 string. kube-rs 5
        // writes an array of numbers (kube-rs/kube#1781), which the API server refuses; so the
        // pair is written here, and only together (a `patchType` alone is refused too).
        let bytes = serde_json::to_vec(&Value::Array(operations.clone())).expect("JSON serializes");
        review["response"]["patchType"] = Value::from("JSONPatch");
        review["response"]["patch"] =
            Value::from(base64::engine::general_purpose::STANDARD.encode(bytes));
    }
    serde_json::to_vec(&review).expect("an AdmissionReview serializes")
}

/// A duration as `?timeout=` (the API server's `10s`) and the flags write it: `500ms`,
/// `2s`, `1m`, or plain seconds.
#[must_use]
pub fn parse_duration(text: &str) -> Option<Duration> {
    kubectl_vllm_core::parse_duration(text).ok()
}
