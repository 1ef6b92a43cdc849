//! Editing a heartbeat check: its name, slug, workflow, criticality, schedule and
//! grace. A new schedule takes effect at once: the check's state and next deadline are
//! worked out again from its last pings, as if it had always had that schedule.

use tend_domain::check::{
    format_interval, standing, CheckDraft, CheckInput, CheckKind, Schedule, Standing,
};

use crate::audit::{self, Action, Change};
use crate::checks::{check_fields, insert_flip, schedule_columns, taken_slug, Check};
use crate::{now_ms, with_tx, Actor, Result, Store, StoreError};

/// The check as a draft, to lay a change over (what PATCH starts from).
pub fn draft_of(check: &Check) -> CheckDraft {
    let (period, cron, timezone) = match check.heartbeat().map(|b| b.schedule) {
        Some(Schedule::Period { period_ms }) => {
            (format_interval(period_ms), String::new(), String::new())
        }
        Some(Schedule::Cron { expr, tz }) => (
            String::new(),
            expr.as_str().to_string(),
            tz.as_str().to_string(),
        ),
        None => Default::default(),
    };
    CheckDraft {
        client: check.client_slug.clone(),
        name: check.name.clone(),
        slug: check.slug.clone(),
        workflow: check.workflow.clone(),
        criticality: check.criticality.as_str().to_string(),
        period,
        cron,
        timezone,
        grace: format_interval(check.grace_ms),
        ..CheckDraft::default()
    }
}

/// Whether a check can be edited here: heartbeats only.
pub fn editable(check: &Check) -> Result<()> {
    if check.kind == CheckKind::Heartbeat {
        Ok(())
    } else {
        Err(StoreError::Guarded(format!(
            "only heartbeat checks can be edited; \"{}\" is {}: delete it and add it again",
            check.name,
            check.kind.as_str()
        )))
    }
}

impl Store {
    /// Saves an edited heartbeat check (audited). The client cannot change; HTTP probes
    /// and event streams are refused (their settings are edited by removing and adding).
    pub async fn update_check(
        &self,
        actor: &Actor,
        uuid: &str,
        input: &CheckInput,
    ) -> Result<Check> {
        let check = self.check(uuid).await?;
        editable(&check)?;
        if input.probe.is_some() {
            return Err(StoreError::invalid(
                "url",
                "a heartbeat cannot become an HTTP probe: add a probe instead",
            ));
        }
        if input.client.as_str() != check.client_slug {
            return Err(StoreError::invalid(
                "client",
                "a check stays with its client: add a new check for the other client",
            ));
        }
        let before = vec![
            ("name", check.name.clone()),
            ("slug", check.slug.clone()),
            ("workflow", check.workflow.clone()),
            ("criticality", check.criticality.as_str().to_string()),
            ("schedule", check.schedule_text()),
            ("grace", format_interval(check.grace_ms)),
        ];
        let after = check_fields(input);
        let now = now_ms();
        let facts = check.facts();
        let beat = &input.heartbeat;
        let Standing {
            state,
            wake_at: wake,
            down_at,
        } = standing(beat, &facts, now);
        let (period_ms, cron, timezone) = schedule_columns(beat);
        let mut tx = self.begin().await?;
        with_tx!(&mut tx, c => sqlx::query(
            "UPDATE checks SET name = $1, slug = $2, workflow = $3, criticality = $4, period_ms = $5, cron = $6, \
             timezone = $7, grace_ms = $8, state = $9, next_due_at = $10, down_at = $11, updated_at = $12 WHERE id = $13")
            .bind(&input.name).bind(&input.slug).bind(&input.workflow).bind(input.criticality.as_str())
            .bind(period_ms).bind(cron).bind(timezone).bind(beat.grace_ms).bind(state.as_str())
            .bind(wake).bind(down_at).bind(now).bind(check.id)
            .execute(&mut *c).await.map(|r| r.rows_affected()))
            .map_err(|e| taken_slug(e, &input.slug))?;
        if state != check.state {
            insert_flip(
                &mut tx,
                check.id,
                now,
                check.state,
                state,
                "schedule changed",
            )
            .await?;
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Update,
                entity: "check",
                entity_id: Some(check.id),
                client_id: Some(check.client_id),
                summary: format!("edited check \"{}\"", input.name),
                before: &before,
                after: &after,
            },
        )
        .await?;
        tx.commit().await?;
        self.check(uuid).await
    }
}
