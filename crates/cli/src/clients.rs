//! `tend client …` and `tend export`: the businesses the agency supports.

use std::path::Path;

use tend_domain::client::{ClientDraft, ClientInput};
use tend_domain::contract::{ContractDraft, ContractInput, ContractState};
use tend_domain::page::PageRequest;
use tend_domain::plan::{Severity, TargetKind};
use tend_domain::FieldErrors;
use tend_store::clients::ClientFilter;
use tend_store::{Actor, Store};

use crate::failure::{Failure, NotFoundAs};
use crate::plans;
use crate::table::{or_dash, utc_minute, Table};

pub struct ListArgs {
    pub search: Option<String>,
    pub plan: Option<String>,
    pub state: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

pub async fn list(store: &Store, args: ListArgs) -> Result<String, Failure> {
    let state = match args.state.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(
            ContractState::parse(raw).map_err(|e| FieldErrors::single("state", e.to_string()))?,
        ),
    };
    let filter = ClientFilter {
        search: args.search,
        plan: args.plan,
        state,
        owner_id: None,
    };
    let filtered = filter.search.is_some() || filter.plan.is_some() || filter.state.is_some();
    let page = store
        .list_clients(&filter, PageRequest::new(args.page, args.per_page))
        .await?;
    if page.total == 0 {
        return Ok(if filtered {
            "No clients match.\n".into()
        } else {
            "No clients yet. Add one with: tend client add --name NAME --timezone ZONE --plan CODE\n".into()
        });
    }
    let mut table = Table::new(&[
        "NAME", "SLUG", "PLAN", "STATE", "RENEWS", "TIMEZONE", "OWNER",
    ]);
    for c in &page.items {
        table.row(vec![
            c.name.clone(),
            c.slug.clone(),
            or_dash(c.plan_code.as_deref()),
            or_dash(c.contract_state.as_deref()),
            or_dash(c.renewal_date.as_deref()),
            c.timezone.clone(),
            or_dash(c.owner_name.as_deref()),
        ]);
    }
    let noun = if page.total == 1 { "client" } else { "clients" };
    let mut out = if page.items.is_empty() {
        String::new()
    } else {
        table.render()
    };
    out.push_str(&format!(
        "page {} of {}, {} {noun}\n",
        page.page,
        page.pages(),
        page.total
    ));
    Ok(out)
}

pub struct AddArgs {
    pub name: String,
    pub slug: Option<String>,
    pub timezone: String,
    pub plan: String,
    pub owner: Option<String>,
}

/// Parses the client and its first contract together, so every mistake is reported at
/// once; the contract starts today in the client's timezone.
fn parse_new_client(args: AddArgs) -> Result<(ClientInput, ContractInput), FieldErrors> {
    let client = ClientDraft {
        name: args.name,
        slug: args.slug.unwrap_or_default(),
        timezone: args.timezone,
        owner_email: args.owner.unwrap_or_default(),
        ..Default::default()
    }
    .parse();
    let today = match &client {
        Ok(c) => jiff::Timestamp::now().to_zoned(c.timezone.zone()).date(),
        Err(_) => jiff::Zoned::now().date(),
    };
    let contract = ContractDraft {
        plan: args.plan,
        support_model: "monthly-retainer".into(),
        ..Default::default()
    }
    .parse(today);
    match (client, contract) {
        (Ok(client), Ok(contract)) => Ok((client, contract)),
        (client, contract) => {
            let mut all = FieldErrors::new();
            for e in client
                .err()
                .iter()
                .chain(contract.err().iter())
                .flat_map(|e| e.iter())
            {
                all.add(&e.field, e.message.clone());
            }
            Err(all)
        }
    }
}

pub async fn add(store: &Store, args: AddArgs) -> Result<String, Failure> {
    let (client, contract) = parse_new_client(args)?;
    let actor = Actor::system("cli");
    let mut tx = store.begin().await?;
    let id = store.insert_client(&mut tx, &actor, &client).await?;
    store
        .insert_contract(&mut tx, &actor, id, &contract)
        .await?;
    tx.commit().await?;

    let stored = store.client_by_id(id).await?;
    let plan = store.plan_by_code(&contract.plan_code).await?;
    Ok(format!(
        "Created client {} ({}), timezone {}{}.\nContract: {} on {} ({}, {}/month), starts {}, renews {}, {}.\n",
        stored.name,
        stored.slug,
        stored.timezone,
        stored
            .owner
            .as_ref()
            .map(|o| format!(", owner {}", o.email))
            .unwrap_or_default(),
        contract.support_model,
        plan.terms.code,
        plan.terms.name,
        plan.terms.monthly_fee,
        contract.start_date,
        contract.renewal_date,
        contract.state,
    ))
}

pub async fn show(store: &Store, slug: &str) -> Result<String, Failure> {
    let client = store
        .client_by_slug(slug, false)
        .await
        .not_found_as(|| format!("no client has the slug \"{slug}\" (see tend client list)"))?;
    let contracts = store.client_contracts(client.id).await?;
    let contacts = store.list_contacts(client.id).await?;

    let mut out = format!("{} ({})\n", client.name, client.slug);
    let field = |out: &mut String, label: &str, value: &str| {
        out.push_str(&format!("  {label:<13}{value}\n"));
    };
    field(&mut out, "timezone", &client.timezone);
    field(
        &mut out,
        "owner",
        &client
            .owner
            .as_ref()
            .map(|o| format!("{} <{}>", o.name, o.email))
            .unwrap_or_else(|| "none yet".into()),
    );
    field(&mut out, "created", &utc_minute(client.created_at));
    if !client.notes.is_empty() {
        field(&mut out, "notes", &client.notes.replace('\n', " "));
    }

    out.push_str("\nContract\n");
    match contracts.first() {
        None => out.push_str("  none\n"),
        Some(c) => {
            field(&mut out, "state", c.state.as_str());
            let model = match c.stabilization_weeks {
                Some(w) => format!("{} ({w} weeks)", c.support_model),
                None => c.support_model.to_string(),
            };
            field(
                &mut out,
                "model",
                &format!("{model}, billed {}", c.billing_period),
            );
            field(
                &mut out,
                "dates",
                &format!("started {}, renews {}", c.start_date, c.renewal_date),
            );
            let history = store.plan_history(c.id).await?;
            if history.len() > 1 {
                let steps: Vec<String> = history
                    .iter()
                    .map(|h| format!("{} from {}", h.to_plan, h.effective_date))
                    .collect();
                field(&mut out, "plan history", &steps.join(", then "));
            }
            if contracts.len() > 1 {
                field(
                    &mut out,
                    "earlier",
                    &format!("{} earlier contract(s)", contracts.len() - 1),
                );
            }
            let plan = store.plan_by_code(&c.plan_code).await?;
            let t = &plan.terms;
            out.push_str(&format!("\nPlan {} ({})\n", t.code, t.name));
            field(
                &mut out,
                "fee",
                &format!(
                    "{}/month, {} included",
                    t.monthly_fee,
                    plans::hours(t.included)
                ),
            );
            field(&mut out, "rollover", &plans::rollover(t));
            field(
                &mut out,
                "rates",
                &format!(
                    "overage {}/h, emergency {}",
                    t.overage_rate,
                    if t.emergency_included {
                        "included".to_string()
                    } else {
                        format!("{}/h", t.emergency_rate)
                    }
                ),
            );
            for severity in Severity::ALL {
                let describe = |kind| {
                    plans::target(&t.sla, *severity, kind)
                        .map(|s| s.describe())
                        .unwrap_or_else(|| "-".into())
                };
                field(
                    &mut out,
                    severity.label(),
                    &format!(
                        "respond {}; update every {}; resolve {}",
                        describe(TargetKind::Response),
                        describe(TargetKind::NextUpdate),
                        describe(TargetKind::Resolution)
                    ),
                );
            }
        }
    }

    out.push_str("\nContacts\n");
    if contacts.is_empty() {
        out.push_str("  none yet\n");
    } else {
        let mut table = Table::new(&["NAME", "ROLE", "EMAIL", "PHONE"]);
        for c in &contacts {
            table.row(vec![
                c.name.clone(),
                c.role.to_string(),
                c.email.clone(),
                or_dash(c.phone.as_deref()),
            ]);
        }
        for line in table.render().lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }

    out.push_str(&format!("\nBusiness hours ({})\n", client.timezone));
    for (day, hours) in client.hours.rows() {
        field(&mut out, &day, &hours);
    }
    if !client.holidays.is_empty() {
        out.push_str("\nHolidays\n");
        for h in &client.holidays {
            field(&mut out, &h.date.to_string(), &h.name);
        }
    }
    Ok(out)
}

/// The client's export as pretty JSON, to `output` or (returned) for standard output.
pub async fn export(store: &Store, slug: &str, output: Option<&Path>) -> Result<String, Failure> {
    let export = store
        .export_client(slug)
        .await
        .not_found_as(|| format!("no client has the slug \"{slug}\" (see tend client list)"))?;
    let mut json = serde_json::to_string_pretty(&export)
        .map_err(|e| Failure::new(format!("cannot write the export as JSON: {e}")))?;
    json.push('\n');
    match output {
        None => Ok(json),
        Some(path) => {
            std::fs::write(path, &json).map_err(|e| {
                Failure::new(format!("output: cannot write {}: {e}", path.display()))
            })?;
            Ok(format!(
                "Wrote everything stored about {} to {} ({}, {}, {}).\n",
                export.client.name,
                path.display(),
                count(export.contacts.len(), "contact", "contacts"),
                count(export.contracts.len(), "contract", "contracts"),
                count(export.audit_log.len(), "audit entry", "audit entries"),
            ))
        }
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
