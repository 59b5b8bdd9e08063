//! The `/mutate` decision: a JSON Patch with the defaults of the validation module.
//!
//! `/mutate` never denies a decodable review (deciding is `/validate`'s job, and a mutating
//! webhook that denies hides the real errors behind its own), never patches a DELETE, and never
//! touches an object that is being deleted.

use json_patch::{Patch, PatchOperation};
use kube_core::admission::{AdmissionResponse, Operation};

use crate::bgppeer;

use super::decode::Request;
use super::object::is_being_deleted;
use super::target::{self, Target};
use super::{Decision, summary_of};

/// The largest value an `integer` field with `format: int32` accepts. Kubernetes 1.36 and later
/// enforce the format, so a patched AS number above it is stored on older clusters only.
use crate::bgppeer::api::INT32_MAX;

/// Decides a `/mutate` request.
pub(crate) fn decide(request: &Request) -> Decision {
    let response = AdmissionResponse::from(request);
    let group = match target::of(request) {
        Target::BgpPeer(group) => group,
        Target::Unexpected(warning) => return finish(request, response, vec![warning], 0),
    };
    if !matches!(request.operation, Operation::Create | Operation::Update) {
        return finish(request, response, Vec::new(), 0);
    }
    let Some(object) = request.object.as_ref() else {
        return finish(request, response, Vec::new(), 0);
    };
    if is_being_deleted(object) {
        return finish(request, response, Vec::new(), 0);
    }
    let operations = bgppeer::defaults(group, object);
    if operations.is_empty() {
        return finish(request, response, Vec::new(), 0);
    }
    let warnings = int32_warnings(&operations);
    let count = operations.len();
    match response.clone().with_patch(Patch(operations)) {
        Ok(patched) => finish(request, patched, warnings, count),
        // A patch of plain JSON values always serialises; should it ever fail, the object is
        // admitted unchanged rather than the request being blocked.
        Err(_) => finish(request, response, Vec::new(), 0),
    }
}

/// Warnings for AS numbers that the patch sets above [`INT32_MAX`]: the v1 and v3 CRDs declare
/// them `int32`, so newer apiservers reject the patched object.
pub(crate) fn int32_warnings(operations: &[PatchOperation]) -> Vec<String> {
    operations
        .iter()
        .filter_map(|operation| {
            let (path, value) = match operation {
                PatchOperation::Add(add) => (&add.path, &add.value),
                PatchOperation::Replace(replace) => (&replace.path, &replace.value),
                _ => return None,
            };
            let field = path.tokens().last()?.decoded().into_owned();
            let number = value.as_u64()?;
            let is_as_number = field == "asNumber" || field.ends_with("ASNumber");
            // Worded exactly as the validation warning, so that on clusters where `/validate`
            // also sees the patched number the apiserver shows the warning once.
            (is_as_number && number > u64::from(INT32_MAX)).then(|| {
                format!(
                    "{field} {number} is above {INT32_MAX}: the CRDs' int32 format rejects it on Kubernetes 1.36 and later"
                )
            })
        })
        .collect()
}

fn finish(
    request: &Request,
    mut response: AdmissionResponse,
    warnings: Vec<String>,
    patch_operations: usize,
) -> Decision {
    if !warnings.is_empty() {
        response.warnings = Some(crate::bgppeer::warnings::cap(warnings));
    }
    let mut summary = summary_of(request, &response);
    summary.patch_operations = patch_operations;
    Decision { response, summary }
}

#[cfg(test)]
mod tests {
    use super::*;
    use json_patch::jsonptr::PointerBuf;
    use json_patch::{AddOperation, ReplaceOperation};
    use serde_json::{Value, json};

    #[test]
    fn warns_about_as_numbers_above_int32_only() {
        let operations = vec![
            PatchOperation::Replace(ReplaceOperation {
                path: PointerBuf::from_tokens(["spec", "asNumber"]),
                value: json!(4_227_858_433_u64),
            }),
            PatchOperation::Replace(ReplaceOperation {
                path: PointerBuf::from_tokens(["spec", "localASNumber"]),
                value: json!(65546),
            }),
            PatchOperation::Add(AddOperation {
                path: PointerBuf::from_tokens(["spec", "sourceAddress"]),
                value: Value::from("UseNodeIP"),
            }),
        ];
        assert_eq!(
            int32_warnings(&operations),
            vec![
                "asNumber 4227858433 is above 2147483647: the CRDs' int32 format rejects it on Kubernetes 1.36 and later"
            ]
        );
    }
}
