//! The status track of one case (one authority's handling of a submitted filing), and of a
//! filing as a whole. Transitions are checked here; the database applies them atomically.

use serde::{Deserialize, Serialize};

/// Status of a case, as exposed by the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// 提出済: arrived at the authority (first submission or resubmission), awaiting decision.
    Submitted,
    /// 差戻し: returned to the provider for correction.
    Returned,
    /// 受付完了: accepted; the registry effects have been applied.
    Accepted,
    /// 取下げ: withdrawn by the provider before acceptance.
    Withdrawn,
}

/// What someone asks to do to a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseAction {
    Accept,
    Return,
    Resubmit,
    Withdraw,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Submitted => "submitted",
            CaseStatus::Returned => "returned",
            CaseStatus::Accepted => "accepted",
            CaseStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "submitted" => CaseStatus::Submitted,
            "returned" => CaseStatus::Returned,
            "accepted" => CaseStatus::Accepted,
            "withdrawn" => CaseStatus::Withdrawn,
            _ => return None,
        })
    }

    /// Japanese label shown to people.
    pub fn label(self) -> &'static str {
        match self {
            CaseStatus::Submitted => "提出済",
            CaseStatus::Returned => "差戻し",
            CaseStatus::Accepted => "受付完了",
            CaseStatus::Withdrawn => "取下げ",
        }
    }

    /// Whether the case is finished (no further action possible).
    pub fn is_final(self) -> bool {
        matches!(self, CaseStatus::Accepted | CaseStatus::Withdrawn)
    }

    /// The statuses from which `action` may start; the database transition uses this set.
    pub fn sources(action: CaseAction) -> &'static [CaseStatus] {
        match action {
            CaseAction::Accept | CaseAction::Return => &[CaseStatus::Submitted],
            CaseAction::Resubmit => &[CaseStatus::Returned],
            CaseAction::Withdraw => &[CaseStatus::Submitted, CaseStatus::Returned],
        }
    }

    /// The status after `action`.
    pub fn target(action: CaseAction) -> CaseStatus {
        match action {
            CaseAction::Accept => CaseStatus::Accepted,
            CaseAction::Return => CaseStatus::Returned,
            CaseAction::Resubmit => CaseStatus::Submitted,
            CaseAction::Withdraw => CaseStatus::Withdrawn,
        }
    }

    /// Whether `action` is allowed from this status.
    pub fn allows(self, action: CaseAction) -> bool {
        Self::sources(action).contains(&self)
    }
}

/// Status of a filing: a draft until first submitted; afterwards its cases carry the detail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilingStatus {
    Draft,
    Submitted,
    Withdrawn,
}

impl FilingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FilingStatus::Draft => "draft",
            FilingStatus::Submitted => "submitted",
            FilingStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "draft" => FilingStatus::Draft,
            "submitted" => FilingStatus::Submitted,
            "withdrawn" => FilingStatus::Withdrawn,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_open_cases_move() {
        use CaseAction::*;
        use CaseStatus::*;
        assert!(Submitted.allows(Accept));
        assert!(Submitted.allows(Return));
        assert!(!Returned.allows(Accept));
        assert!(Returned.allows(Resubmit));
        assert!(!Accepted.allows(Withdraw));
        assert!(!Withdrawn.allows(Resubmit));
        assert!(Returned.allows(Withdraw));
        for s in [Submitted, Returned, Accepted, Withdrawn] {
            assert_eq!(CaseStatus::parse(s.as_str()), Some(s));
        }
    }
}
