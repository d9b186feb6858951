//! Answering a return (差戻し) item by item. A reviewer pins fields and files by path; the
//! provider must, for every pinned item, either change it or answer it with a short reply
//! (回答) before the correction can be resubmitted. This module says what a pinned path
//! holds in a filing's answers and files, whether it changed since the returned version, and
//! which items are still open.
//!
//! Paths: `fields.<id>`, `establishments.<establishment>.<id>`, a repeating group
//! `….<group>` or one of its rows `….<group>.<index>.<id>`, and `attachments.<requirement>`
//! (the files attached for that requirement).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::procedure::FilingData;

/// Longest reply to one pinned item, in characters.
pub const MAX_REPLY_CHARS: usize = 1000;

/// One file linked to a filing for a requirement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRef {
    pub requirement_id: String,
    pub attachment_id: String,
}

/// A filing's answers and files at one moment (a submitted version, or the working copy).
#[derive(Clone, Copy, Debug)]
pub struct Snapshot<'a> {
    pub data: &'a FilingData,
    pub files: &'a [FileRef],
}

/// What a pinned path holds: the answer (an empty answer is `Null`), or for
/// `attachments.<requirement>` the sorted ids of the files attached for it.
pub fn pinned_value(s: Snapshot<'_>, path: &str) -> Value {
    if let Some(req) = path.strip_prefix("attachments.") {
        let mut ids: Vec<&str> = s
            .files
            .iter()
            .filter(|f| f.requirement_id == req)
            .map(|f| f.attachment_id.as_str())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        return normalise(Value::from(ids));
    }
    let (record, rest) = if let Some(rest) = path.strip_prefix("fields.") {
        (Some(&s.data.fields), rest)
    } else if let Some(rest) = path.strip_prefix("establishments.") {
        match rest.split_once('.') {
            Some((est, rest)) => (s.data.establishments.get(est), rest),
            None => (None, ""),
        }
    } else {
        (None, "")
    };
    let Some(record) = record else {
        return Value::Null;
    };
    let mut parts = rest.split('.');
    let mut current = parts.next().and_then(|first| record.get(first));
    for part in parts {
        current = match current {
            Some(Value::Array(items)) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
            Some(Value::Object(map)) => map.get(part),
            _ => None,
        };
    }
    normalise(current.cloned().unwrap_or(Value::Null))
}

/// Empty text, empty lists and empty objects count as no answer.
fn normalise(v: Value) -> Value {
    match &v {
        Value::String(s) if s.trim().is_empty() => Value::Null,
        Value::Array(a) if a.is_empty() => Value::Null,
        Value::Object(o) if o.is_empty() => Value::Null,
        _ => v,
    }
}

/// Whether the item at `path` differs between the returned version and the correction.
pub fn changed(before: Snapshot<'_>, after: Snapshot<'_>, path: &str) -> bool {
    pinned_value(before, path) != pinned_value(after, path)
}

/// The pinned items neither changed nor answered (a reply of only spaces is no answer), in
/// the order they were pinned.
pub fn open_items<'p>(
    pins: &'p [String],
    before: Snapshot<'_>,
    after: Snapshot<'_>,
    replies: &BTreeMap<String, String>,
) -> Vec<&'p str> {
    pins.iter()
        .filter(|p| {
            let answered = replies
                .get(p.as_str())
                .is_some_and(|r| !r.trim().is_empty());
            !answered && !changed(before, after, p)
        })
        .map(String::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(v: Value) -> FilingData {
        serde_json::from_value(v).unwrap()
    }

    fn file(req: &str, id: &str) -> FileRef {
        FileRef {
            requirement_id: req.into(),
            attachment_id: id.into(),
        }
    }

    #[test]
    fn values_at_paths() {
        let d = data(json!({
            "fields": { "name": "山田", "blank": "  ", "items": ["a"] },
            "establishments": { "e1": {
                "manager": "佐藤",
                "medical": [ { "name": "A病院" }, { "name": "B医院" } ]
            } }
        }));
        let files = [
            file("pledge", "f2"),
            file("pledge", "f1"),
            file("plan", "f3"),
        ];
        let s = Snapshot {
            data: &d,
            files: &files,
        };
        assert_eq!(pinned_value(s, "fields.name"), json!("山田"));
        assert_eq!(pinned_value(s, "fields.blank"), Value::Null);
        assert_eq!(pinned_value(s, "fields.missing"), Value::Null);
        assert_eq!(pinned_value(s, "fields.items"), json!(["a"]));
        assert_eq!(pinned_value(s, "establishments.e1.manager"), json!("佐藤"));
        assert_eq!(
            pinned_value(s, "establishments.e1.medical.1.name"),
            json!("B医院")
        );
        assert_eq!(
            pinned_value(s, "establishments.e1.medical.5.name"),
            Value::Null
        );
        assert_eq!(
            pinned_value(s, "establishments.e1.medical"),
            json!([{ "name": "A病院" }, { "name": "B医院" }])
        );
        assert_eq!(pinned_value(s, "establishments.e9.manager"), Value::Null);
        assert_eq!(pinned_value(s, "attachments.pledge"), json!(["f1", "f2"]));
        assert_eq!(pinned_value(s, "attachments.other"), Value::Null);
        assert_eq!(pinned_value(s, "nonsense"), Value::Null);
    }

    #[test]
    fn open_items_are_those_neither_changed_nor_answered() {
        let before = data(json!({ "fields": { "a": "1", "b": "2", "c": "3" } }));
        let after = data(json!({ "fields": { "a": "1", "b": "22", "c": "3" } }));
        let files_before = [file("pledge", "f1")];
        let files_after = [file("pledge", "f1"), file("pledge", "f9")];
        let pins: Vec<String> = ["fields.a", "fields.b", "fields.c", "attachments.pledge"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let b = Snapshot {
            data: &before,
            files: &files_before,
        };
        let a = Snapshot {
            data: &after,
            files: &files_after,
        };
        let mut replies = BTreeMap::new();
        assert_eq!(
            open_items(&pins, b, a, &replies),
            vec!["fields.a", "fields.c"]
        );
        replies.insert("fields.a".to_string(), "   ".to_string());
        replies.insert("fields.c".to_string(), "この値で正しいです。".to_string());
        assert_eq!(open_items(&pins, b, a, &replies), vec!["fields.a"]);
        // Unchanged files stay open.
        let a2 = Snapshot {
            data: &after,
            files: &files_before,
        };
        assert!(open_items(&pins, b, a2, &replies).contains(&"attachments.pledge"));
    }

    #[test]
    fn clearing_an_answer_counts_as_a_change_but_blank_to_missing_does_not() {
        let before = data(json!({ "fields": { "a": "1", "b": "" } }));
        let after = data(json!({ "fields": {} }));
        let s = |d| Snapshot {
            data: d,
            files: &[],
        };
        assert!(changed(s(&before), s(&after), "fields.a"));
        assert!(!changed(s(&before), s(&after), "fields.b"));
    }
}
