//! Who hears about an event that concerns the agency (an SLA warning, a check that went
//! down, an hour bank past a threshold): the first named person who can be reached,
//! else every owner of the agency. Disabled accounts hear nothing.

use crate::role::Role;

/// A staff account as the rule needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaffMember {
    pub id: i64,
    pub role: Role,
    pub active: bool,
}

/// The ids to notify. `named` is in order of preference (a ticket's owner, then its
/// client's technical owner); unset or disabled entries are passed over.
pub fn who_hears(named: &[Option<i64>], staff: &[StaffMember]) -> Vec<i64> {
    let reachable = |id: i64| staff.iter().any(|s| s.id == id && s.active);
    if let Some(id) = named.iter().flatten().copied().find(|id| reachable(*id)) {
        return vec![id];
    }
    staff
        .iter()
        .filter(|s| s.active && s.role == Role::Owner)
        .map(|s| s.id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff() -> Vec<StaffMember> {
        vec![
            StaffMember {
                id: 1,
                role: Role::Owner,
                active: true,
            },
            StaffMember {
                id: 2,
                role: Role::Staff,
                active: true,
            },
            StaffMember {
                id: 3,
                role: Role::Staff,
                active: false,
            },
            StaffMember {
                id: 4,
                role: Role::Owner,
                active: false,
            },
            StaffMember {
                id: 5,
                role: Role::Owner,
                active: true,
            },
        ]
    }

    #[test]
    fn the_first_reachable_named_person_hears_it() {
        assert_eq!(who_hears(&[Some(2), Some(1)], &staff()), vec![2]);
        assert_eq!(who_hears(&[None, Some(2)], &staff()), vec![2]);
        assert_eq!(
            who_hears(&[Some(3), Some(2)], &staff()),
            vec![2],
            "disabled passed over"
        );
    }

    #[test]
    fn without_one_every_active_owner_hears_it() {
        assert_eq!(who_hears(&[None, None], &staff()), vec![1, 5]);
        assert_eq!(who_hears(&[Some(3), Some(99)], &staff()), vec![1, 5]);
    }
}
