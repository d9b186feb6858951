//! Which documents a filing must carry, given its answers (変更届: the items
//! that changed decide the documents).

use super::model::{AttachmentRequirement, FieldError, FilingData, ProcedureDefinition};

impl ProcedureDefinition {
    /// The attachment requirements that apply to these answers, in form order.
    pub fn required_attachments(&self, data: &FilingData) -> Vec<&AttachmentRequirement> {
        self.attachments
            .iter()
            .filter(|a| {
                a.required
                    || a.required_when
                        .as_ref()
                        .is_some_and(|c| self.condition_holds(c, data))
            })
            .collect()
    }

    /// One `required` error (path `attachments.<id>`) per applicable requirement
    /// without a file; `present` = requirement ids that have at least one file.
    pub fn missing_attachments(&self, data: &FilingData, present: &[String]) -> Vec<FieldError> {
        self.required_attachments(data)
            .into_iter()
            .filter(|a| !present.contains(&a.id))
            .map(|a| {
                let message = match &a.origin.authority_name {
                    Some(name) => format!("{}を添付してください（{name}の独自ルール）。", a.label),
                    None => format!("{}を添付してください。", a.label),
                };
                FieldError::new(format!("attachments.{}", a.id), "required", message)
            })
            .collect()
    }
}
