//! Raw bytes to a [`Request`]: the only place that looks at the request body.
//!
//! The body is read in one pass, straight into the values the decision needs: kube's
//! [`AdmissionRequest`] for the request's attributes, `object` as one plain JSON [`Value`], and
//! `oldObject` as an [`OldObject`] (only what differs from `object` is parsed). Nothing is
//! buffered twice and no object is ever cloned, so decoding needs little more memory than the
//! JSON tree of the new object itself (kube's own
//! `AdmissionReview<DynamicObject>` would buffer the whole review once more, because of its
//! flattened fields, and the decision would then copy each object again).

use std::ops::Deref;

use k8s_openapi::api::authentication::v1::UserInfo;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube_core::admission::{
    AdmissionRequest, AdmissionResponse, META_API_VERSION_V1, META_KIND, Operation,
};
use kube_core::{DynamicObject, GroupVersionKind, GroupVersionResource, TypeMeta};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::old_object::OldObject;

/// Why a request body is not an AdmissionReview we can answer. The HTTP layer answers these with
/// `400 Bad Request` and this text, since there is no `uid` to echo in a review.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The body is not JSON, or not shaped like an AdmissionReview.
    #[error("the body is not a valid admission.k8s.io/v1 AdmissionReview: {0}")]
    Json(serde_json::Error),
    /// The body is an object of another kind or version.
    #[error(
        "expected kind \"AdmissionReview\" and apiVersion \"admission.k8s.io/v1\", got kind {kind:?} and apiVersion {api_version:?}"
    )]
    WrongType {
        /// The `kind` the body declared.
        kind: String,
        /// The `apiVersion` the body declared.
        api_version: String,
    },
    /// The review has no `request` (a response was sent to us, or the field is missing).
    #[error("the AdmissionReview has no request")]
    MissingRequest,
}

/// serde_json's message is part of ours, so it is not also the error's `source()`.
impl From<serde_json::Error> for DecodeError {
    fn from(error: serde_json::Error) -> Self {
        Self::Json(error)
    }
}

/// A decoded admission request: its attributes, and its objects as plain JSON.
///
/// Dereferences to kube's [`AdmissionRequest`] for the attributes (`uid`, `kind`, `operation`,
/// ...); that one's `object` and `old_object` are always `None`, the objects are the fields of
/// the same names here (which is what `request.object` names).
#[derive(Clone, Debug)]
pub struct Request {
    /// The request's attributes, with the review's `apiVersion` and `kind` (so that the
    /// response echoes them).
    pub(crate) attributes: AdmissionRequest<DynamicObject>,
    /// The object of a CREATE or UPDATE, as kube's `DynamicObject` would re-encode it.
    pub object: Option<Value>,
    /// The stored object of an UPDATE or DELETE, likewise, read only as far as ratcheting needs
    /// it (see [`OldObject`]).
    pub old_object: Option<OldObject>,
}

impl Deref for Request {
    type Target = AdmissionRequest<DynamicObject>;

    fn deref(&self) -> &Self::Target {
        &self.attributes
    }
}

impl From<&Request> for AdmissionResponse {
    fn from(request: &Request) -> Self {
        AdmissionResponse::from(&request.attributes)
    }
}

/// Decodes an `admission.k8s.io/v1` AdmissionReview body into its request.
///
/// Accepts and rejects what kube's `AdmissionReview<DynamicObject>` does, with the same words,
/// and gives each object the form a `DynamicObject` would re-encode it in (`metadata` normalised
/// as an `ObjectMeta`), so the decision is the same; the work and memory differ, and so does the
/// position an error names (where the problem is, rather than the end of the body). One
/// difference in what is accepted: an object that repeats its `metadata` key keeps the last one
/// (as for every other repeated key), where kube refuses it; the apiserver never sends one.
pub fn request(body: &[u8]) -> Result<Request, DecodeError> {
    let review: WireReview = serde_json::from_slice(body)?;
    if review.kind != META_KIND || review.api_version != META_API_VERSION_V1 {
        return Err(DecodeError::WrongType {
            kind: review.kind,
            api_version: review.api_version,
        });
    }
    let wire = review.request.ok_or(DecodeError::MissingRequest)?;
    let attributes = AdmissionRequest {
        types: TypeMeta {
            api_version: review.api_version,
            kind: review.kind,
        },
        uid: wire.uid,
        kind: wire.kind,
        resource: wire.resource,
        sub_resource: wire.sub_resource,
        request_kind: wire.request_kind,
        request_resource: wire.request_resource,
        request_sub_resource: wire.request_sub_resource,
        name: wire.name,
        namespace: wire.namespace,
        operation: wire.operation,
        user_info: wire.user_info,
        object: None,
        old_object: None,
        dry_run: wire.dry_run,
        options: wire.options,
    };
    let old_object = wire
        .old_object
        .map(|raw| OldObject::read(raw, wire.object.as_ref(), as_dynamic_object))
        .transpose()?;
    Ok(Request {
        attributes,
        object: wire.object,
        old_object,
    })
}

/// An object in the form `DynamicObject` gives it: `apiVersion` and `kind` (when both are
/// strings), `metadata` decoded and re-encoded as an `ObjectMeta` (so a malformed one is an
/// error, and fields it does not know are dropped), every other field as it came.
///
/// Only the small part (`apiVersion`, `kind`, `metadata`) goes through `DynamicObject`; the rest
/// of the object is moved, never copied.
///
/// The usual object (`apiVersion` and `kind` strings, `metadata` an object) takes a short cut
/// with the same result: only its `metadata` goes through `ObjectMeta`, skipping
/// `DynamicObject`'s flattened fields, which buffer the whole head once more (measured: this
/// function took half of a `/validate` request's decoding). Any other shape goes through
/// `DynamicObject` itself; metadata `ObjectMeta` refuses is refused with `ObjectMeta`'s own
/// error, which is also what `DynamicObject` says about it.
fn as_dynamic_object(object: Value) -> Result<Value, serde_json::Error> {
    match usual_object(object) {
        Ok(normalised) => normalised,
        Err(object) => via_dynamic_object(object),
    }
}

/// The short cut of [`as_dynamic_object`]: `Ok` with its result when `object` has the usual
/// shape (then `DynamicObject` would decode `metadata` from the same owned JSON value with the
/// same `ObjectMeta` code, so a refusal is the same error), `Err` with `object` untouched
/// otherwise. The metadata is moved into the `ObjectMeta`, not copied.
fn usual_object(object: Value) -> Result<Result<Value, serde_json::Error>, Value> {
    let usual = match &object {
        Value::Object(map) => {
            map.get("apiVersion").is_some_and(Value::is_string)
                && map.get("kind").is_some_and(Value::is_string)
                && map.get("metadata").is_some_and(Value::is_object)
        }
        _ => false,
    };
    let Value::Object(mut map) = object else {
        return Err(object);
    };
    if !usual {
        return Err(Value::Object(map));
    }
    let Some(metadata) = map.remove("metadata") else {
        return Err(Value::Object(map));
    };
    Ok(ObjectMeta::deserialize(metadata)
        .and_then(serde_json::to_value)
        .map(|metadata| {
            map.insert("metadata".to_owned(), metadata);
            Value::Object(map)
        }))
}

/// [`as_dynamic_object`] through kube's `DynamicObject` itself, for every shape.
fn via_dynamic_object(object: Value) -> Result<Value, serde_json::Error> {
    let Value::Object(mut rest) = object else {
        // Not an object: `DynamicObject` refuses it (with its own words) without copying much.
        return serde_json::to_value(DynamicObject::deserialize(&object)?);
    };
    let mut head = Map::new();
    for key in ["apiVersion", "kind", "metadata"] {
        if let Some((key, value)) = rest.remove_entry(key) {
            head.insert(key, value);
        }
    }
    let head = DynamicObject::deserialize(Value::Object(head))?;
    let mut normalised = match serde_json::to_value(head)? {
        Value::Object(map) => map,
        // A `DynamicObject` always encodes as a JSON object.
        other => return Ok(other),
    };
    normalised.append(&mut rest);
    Ok(Value::Object(normalised))
}

/// Decodes an object (or `null`) as [`as_dynamic_object`] shapes it, while the body is read, so
/// that an error says where in the body the object ends.
fn dynamic_object<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Value>, D::Error> {
    Option::<Value>::deserialize(deserializer)?
        .map(as_dynamic_object)
        .transpose()
        .map_err(serde::de::Error::custom)
}

/// The review as sent: kube's `AdmissionReview` without the flattening that would buffer it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireReview<'a> {
    api_version: String,
    kind: String,
    #[serde(borrow)]
    request: Option<WireRequest<'a>>,
    /// Never used, but decoded as kube does, so that a review with a malformed response is
    /// refused as before.
    #[serde(default)]
    #[allow(dead_code)]
    response: Option<AdmissionResponse>,
}

/// kube's `AdmissionRequest`, field for field, with the objects as plain JSON.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRequest<'a> {
    uid: String,
    kind: GroupVersionKind,
    resource: GroupVersionResource,
    #[serde(default)]
    sub_resource: Option<String>,
    #[serde(default)]
    request_kind: Option<GroupVersionKind>,
    #[serde(default)]
    request_resource: Option<GroupVersionResource>,
    #[serde(default)]
    request_sub_resource: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: Option<String>,
    operation: Operation,
    user_info: UserInfo,
    #[serde(default, deserialize_with = "dynamic_object")]
    object: Option<Value>,
    /// Kept as text (a slice of the body) until the new object is known: see
    /// [`OldObject::read`].
    #[serde(default, borrow)]
    old_object: Option<&'a RawValue>,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    options: Option<RawExtension>,
}
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The short cut of `as_dynamic_object` gives exactly what `DynamicObject` gives, for every
    /// recorded object and for shapes at the edges (and falls back where it does not apply).
    #[test]
    fn the_usual_object_short_cut_agrees_with_dynamic_object() {
        let mut objects: Vec<Value> = Vec::new();
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/admission");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let Ok(recorded) = serde_json::from_slice::<Value>(&std::fs::read(&path).unwrap())
            else {
                continue;
            };
            for key in ["object", "oldObject"] {
                if let Some(object) = recorded.pointer(&format!("/review/request/{key}")) {
                    objects.push(object.clone());
                }
            }
        }
        assert!(
            objects.len() >= 30,
            "only {} recorded objects",
            objects.len()
        );
        objects.extend([
            serde_json::json!({"apiVersion": "v1", "kind": "K", "metadata": {}}),
            serde_json::json!({"apiVersion": "v1", "kind": "K", "metadata": {"name": "n",
                "unknown": 1, "labels": {"a": "b"}, "generation": 3,
                "creationTimestamp": "2026-01-02T03:04:05Z"}, "spec": {"x": [1, 2]}}),
            serde_json::json!({"apiVersion": "v1", "kind": "K", "metadata": {"name": 5}}),
            serde_json::json!({"apiVersion": "v1", "kind": "K", "metadata": {"labels": []}}),
            serde_json::json!({"apiVersion": "v1", "kind": "K", "metadata": {"generation": -1}}),
            serde_json::json!({"apiVersion": "v1", "kind": "K", "metadata": {"generation": 1.5}}),
            serde_json::json!({"apiVersion": "v1", "kind": "K", "metadata": {
                "creationTimestamp": "yesterday"}}),
            serde_json::json!({"apiVersion": "v1", "kind": 7, "metadata": {}}),
            serde_json::json!({"apiVersion": "v1", "metadata": {"name": "n"}}),
            serde_json::json!({"apiVersion": "v1", "kind": "K", "metadata": null}),
            serde_json::json!({"apiVersion": "v1", "kind": "K"}),
            serde_json::json!({"spec": {}}),
            serde_json::json!([1]),
            serde_json::json!("text"),
        ]);
        let mut short_cuts = 0;
        for object in objects {
            let expected = via_dynamic_object(object.clone()).map_err(|err| err.to_string());
            if let Ok(normalised) = usual_object(object.clone()) {
                short_cuts += 1;
                assert_eq!(
                    normalised.map_err(|err| err.to_string()),
                    expected,
                    "{object}"
                );
            }
            let actual = as_dynamic_object(object.clone()).map_err(|err| err.to_string());
            assert_eq!(actual, expected, "{object}");
        }
        assert!(
            short_cuts >= 30,
            "the short cut applied to only {short_cuts} objects"
        );
    }

    const MINIMAL: &str = r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",
        "request":{"uid":"u1","kind":{"group":"crd.projectcalico.org","version":"v1","kind":"BGPPeer"},
        "resource":{"group":"crd.projectcalico.org","version":"v1","resource":"bgppeers"},
        "name":"p","operation":"DELETE","userInfo":{},"object":null,"oldObject":null}}"#;

    #[test]
    fn decodes_a_minimal_review_and_keeps_its_type() {
        let request = request(MINIMAL.as_bytes()).unwrap();
        assert_eq!(request.uid, "u1");
        assert_eq!(request.types.api_version, "admission.k8s.io/v1");
        assert_eq!(request.types.kind, "AdmissionReview");
    }

    #[test]
    fn rejects_non_json() {
        let err = request(b"{not json").unwrap_err();
        assert!(matches!(err, DecodeError::Json(_)), "{err}");
        assert!(err.to_string().contains("line 1 column 2"), "{err}");
    }

    #[test]
    fn rejects_another_version() {
        let body = MINIMAL.replace("admission.k8s.io/v1", "admission.k8s.io/v1beta1");
        let err = request(body.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected kind \"AdmissionReview\" and apiVersion \"admission.k8s.io/v1\", got kind \"AdmissionReview\" and apiVersion \"admission.k8s.io/v1beta1\""
        );
    }

    #[test]
    fn rejects_a_review_without_request() {
        let body = r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#;
        assert!(matches!(
            request(body.as_bytes()),
            Err(DecodeError::MissingRequest)
        ));
    }

    /// The body of a review whose `object` and `oldObject` are `object` (JSON text).
    fn review_with(object: &str) -> String {
        MINIMAL
            .replace("\"object\":null", &format!("\"object\":{object}"))
            .replace("\"oldObject\":null", &format!("\"oldObject\":{object}"))
    }

    /// What kube's own `AdmissionReview<DynamicObject>` makes of the object: the oracle.
    fn through_kube(body: &str) -> Result<Option<Value>, String> {
        use kube_core::admission::AdmissionReview;
        let review: AdmissionReview<DynamicObject> =
            serde_json::from_str(body).map_err(|err| err.to_string())?;
        let request: AdmissionRequest<DynamicObject> = review.try_into().unwrap();
        Ok(request
            .object
            .map(|object| serde_json::to_value(object).unwrap()))
    }

    #[test]
    fn objects_decode_exactly_as_through_kube_dynamic_object() {
        for object in [
            r#"{"apiVersion":"crd.projectcalico.org/v1","kind":"BGPPeer","metadata":{"name":"p",
               "labels":{"a":"b"},"annotations":{},"bogus":1,"finalizers":["f"],
               "creationTimestamp":"2026-11-25T22:12:29Z","managedFields":[{"manager":"kubectl",
               "operation":"Update","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{}}}],
               "deletionTimestamp":"2026-11-25T22:12:29.123456Z","generation":3},
               "spec":{"peerIP":"10.0.0.1","filters":["a","B",1,null]},"status":{"x":[1.5,-2]}}"#,
            r#"{"apiVersion":"crd.projectcalico.org/v1","spec":{}}"#,
            r#"{"kind":"BGPPeer","metadata":null}"#,
            r#"{"apiVersion":5,"kind":"BGPPeer","metadata":{"labels":null}}"#,
            r#"{}"#,
            r#"{"spec":{"x":"é
"}}"#,
            r#"{"metadata":{"labels":{"a":1}}}"#,
            r#"{"metadata":{"deletionTimestamp":"yesterday"}}"#,
            r#"{"metadata":[]}"#,
            "5",
            "-1.5",
            r#""text""#,
            "true",
            "[1,2]",
        ] {
            let body = review_with(object);
            let ours = request(body.as_bytes()).map_err(|err| match err {
                DecodeError::Json(err) => err.to_string(),
                other => panic!("{other}"),
            });
            let expected = through_kube(&body);
            match (&ours, &expected) {
                (Ok(ours), Ok(expected)) => {
                    assert_eq!(&ours.object, expected, "{object}");
                    // The stored object, read on its own (nothing to leave out).
                    let alone =
                        body.replacen(&format!("\"object\":{object}"), "\"object\":null", 1);
                    let alone = request(alone.as_bytes()).unwrap();
                    let old = alone.old_object.as_ref().map(|old| old.partial().clone());
                    assert_eq!(&old, expected, "{object}");
                    assert!(ours.attributes.object.is_none());
                }
                // kube's errors point at the end of the body (it buffers the whole review), ours
                // at the end of the object: the same words, a more useful position.
                (Err(ours), Err(expected)) => {
                    let words = |text: &str| text.split(" at line ").next().unwrap().to_owned();
                    assert_eq!(words(ours), words(expected), "{object}");
                    assert!(ours.contains(" at line "), "{ours}");
                }
                _ => panic!("{object}: ours {ours:?}, kube's {expected:?}"),
            }
        }
    }

    #[test]
    fn every_recorded_review_decodes_as_through_kube() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/admission");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|ext| ext != "json") {
                continue;
            }
            let recorded: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            if recorded["review"].is_null() {
                continue;
            }
            let body = recorded["review"].to_string();
            let ours = request(body.as_bytes()).unwrap();
            let review: kube_core::admission::AdmissionReview<DynamicObject> =
                serde_json::from_str(&body).unwrap();
            let kube: AdmissionRequest<DynamicObject> = review.try_into().unwrap();
            let json =
                |object: Option<DynamicObject>| object.map(|o| serde_json::to_value(o).unwrap());
            assert_eq!(ours.object, json(kube.object.clone()), "{path:?}");
            // The stored object, read on its own (nothing to leave out).
            let mut alone = recorded["review"].clone();
            alone["request"]["object"] = Value::Null;
            let alone = request(alone.to_string().as_bytes()).unwrap();
            let old = alone.old_object.as_ref().map(|old| old.partial().clone());
            assert_eq!(old, json(kube.old_object.clone()), "{path:?}");
            assert_eq!(
                serde_json::to_value(&ours.attributes).unwrap(),
                serde_json::to_value(AdmissionRequest {
                    object: None,
                    old_object: None,
                    ..kube
                })
                .unwrap(),
                "{path:?}"
            );
            seen += 1;
        }
        assert!(seen > 30, "the recorded reviews are found");
    }

    #[test]
    fn attributes_decode_as_through_kube() {
        let body = MINIMAL.replace(
            "\"userInfo\":{}",
            "\"userInfo\":{\"username\":\"u\"},\"subResource\":\"status\",\"dryRun\":true,\
             \"namespace\":\"ns\",\"options\":{\"kind\":\"DeleteOptions\"}",
        );
        let ours = request(body.as_bytes()).unwrap();
        let review: kube_core::admission::AdmissionReview<DynamicObject> =
            serde_json::from_str(&body).unwrap();
        let kube: AdmissionRequest<DynamicObject> = review.try_into().unwrap();
        assert_eq!(
            serde_json::to_value(&ours.attributes).unwrap(),
            serde_json::to_value(&kube).unwrap()
        );
        assert_eq!(ours.attributes.types, kube.types);
        assert_eq!(
            ours.uid, "u1",
            "the attributes are reachable through the request"
        );
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        for body in [
            &b""[..],
            b"null",
            b"[]",
            b"\xff\xfe",
            b"{\"request\":1}",
            b"1e999999",
        ] {
            assert!(request(body).is_err());
        }
    }
}
