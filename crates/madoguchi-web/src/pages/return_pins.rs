//! The correction form's side of answering a return item by item: each pinned item of an
//! open return is shown beside its field (or file) with a reply box; items that have no place
//! on the form (a whole repeating group, a row since removed) are answered in the return's
//! own box at the top. Replies are posted with the form as `_reply.<event id>.<path>`.

use madoguchi_core::filings::replies::{OpenReturn, ReplyInput};

use super::form::SectionView;
use super::form_view::{FieldView, PinView};

/// The name of the reply input of one pinned item.
pub fn input_name(event_id: &str, item: &str) -> String {
    format!("_reply.{event_id}.{item}")
}

/// The replies posted with the form.
pub fn replies_from_pairs(pairs: &[(String, String)]) -> Vec<ReplyInput> {
    pairs
        .iter()
        .filter_map(|(k, v)| {
            let (event_id, item) = k.strip_prefix("_reply.")?.split_once('.')?;
            Some(ReplyInput {
                event_id: event_id.to_string(),
                item: item.to_string(),
                reply: v.clone(),
            })
        })
        .collect()
}

/// The pin view of one item of one return.
fn pin(r: &OpenReturn, item: &madoguchi_core::filings::replies::PinnedItem) -> PinView {
    let name = input_name(&r.event_id, &item.item);
    PinView {
        authority_name: r.authority_name.clone(),
        input_id: FieldView::id_for(&name),
        input_name: name,
        reply: item.reply.clone(),
        changed: item.changed,
        open: item.open,
    }
}

/// An item of a return as listed at the top of the form.
pub struct PinnedLine {
    pub label: String,
    /// Where it is answered on the form (`#…`).
    pub href: String,
    pub state: &'static str,
    pub open: bool,
    /// The reply box, when it is answered here (it has no place on the form): none or one.
    pub pin: Vec<PinView>,
}

/// A return as shown at the top of the form.
pub struct ReturnBox {
    pub authority_name: String,
    pub at: String,
    pub message: String,
    pub lines: Vec<PinnedLine>,
}

/// Puts each pinned item beside its field (`sections`) or file requirement
/// (`place_file(requirement id, pin)` returns whether it has a place); returns the boxes for
/// the top of the form, where the items without a place get their reply box.
pub fn place(
    returns: &[OpenReturn],
    sections: &mut [SectionView],
    mut place_file: impl FnMut(&str, PinView) -> bool,
) -> Vec<ReturnBox> {
    returns
        .iter()
        .map(|r| ReturnBox {
            authority_name: r.authority_name.clone(),
            at: r.at.clone(),
            message: r.message.clone(),
            lines: r
                .items
                .iter()
                .map(|item| {
                    let p = pin(r, item);
                    let placed = if let Some(req) = item.item.strip_prefix("attachments.") {
                        place_file(req, p.clone()).then(|| format!("#req-{req}"))
                    } else {
                        sections
                            .iter_mut()
                            .flat_map(|s| s.fields_mut())
                            .find(|f| f.name == item.item)
                            .map(|f| {
                                f.pins.push(p.clone());
                                format!("#{}", f.id)
                            })
                    };
                    PinnedLine {
                        label: item.label.clone(),
                        state: p.state_label(),
                        open: item.open,
                        href: placed.clone().unwrap_or_else(|| format!("#{}", p.input_id)),
                        pin: if placed.is_none() {
                            vec![p]
                        } else {
                            Vec::new()
                        },
                    }
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_read_from_their_input_names() {
        let pairs = vec![
            ("fields.x".to_string(), "1".to_string()),
            (
                input_name("0190-ev", "establishments.e1.tf_medical.1.name"),
                "変更はありません".to_string(),
            ),
            ("_reply.malformed".to_string(), "x".to_string()),
        ];
        let r = replies_from_pairs(&pairs);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].event_id, "0190-ev");
        assert_eq!(r[0].item, "establishments.e1.tf_medical.1.name");
        assert_eq!(r[0].reply, "変更はありません");
    }
}
