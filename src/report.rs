//! The JSON shape of one validation error, shared by the reports of `check` and `audit` (their
//! schemas, docs/schemas/check.schema.json and audit.schema.json, describe it the same way).
//! Pure.

use serde::Serialize;

use bgppeer_core::field::FieldError;

/// One error: the field path, Kubernetes' reason, the message without the path, and the whole
/// line as the text output prints it.
#[derive(Serialize)]
pub(crate) struct JsonError {
    field: String,
    reason: &'static str,
    message: String,
    text: String,
}

impl From<&FieldError> for JsonError {
    fn from(error: &FieldError) -> Self {
        Self {
            field: error.path.to_string(),
            reason: error.error_type.reason(),
            message: error.body(),
            text: error.to_string(),
        }
    }
}
