//! Demo data: a small automation agency with a dozen clients on the three default
//! plans, written through the store's public API so every row is audited as
//! `system demo`. For trying Tend, for screenshots and for browser tests.

use jiff::civil::Date;
use jiff::ToSpan;
use tend_domain::client::ClientDraft;
use tend_domain::contact::ContactDraft;
use tend_domain::contract::{ContractDraft, ContractInput};
use tend_domain::email::Email;
use tend_domain::role::Role;
use tend_domain::timezone::Timezone;
use tend_domain::FieldErrors;
use tend_store::{Actor, Store};

use crate::failure::Failure;

/// The demo owner's sign-in. Published on purpose (docs, browser tests): demo data is
/// for a server on localhost, and `tend serve --demo` warns when it listens elsewhere.
pub const OWNER_EMAIL: &str = "owner@demo.tend";
pub const PASSWORD: &str = "tend-demo-2026";

struct DemoUser {
    email: &'static str,
    name: &'static str,
    role: Role,
}

const USERS: &[DemoUser] = &[
    DemoUser {
        email: OWNER_EMAIL,
        name: "Dana Whitfield",
        role: Role::Owner,
    },
    DemoUser {
        email: "maya@demo.tend",
        name: "Maya Chen",
        role: Role::Staff,
    },
    DemoUser {
        email: "leo@demo.tend",
        name: "Leo Okafor",
        role: Role::Staff,
    },
    DemoUser {
        email: "sam@demo.tend",
        name: "Sam Rivera",
        role: Role::Viewer,
    },
];

/// How a demo client's contract came about, relative to today in its timezone.
enum Story {
    /// A monthly retainer on `plan` since `months` ago, in `state`.
    Retainer {
        plan: &'static str,
        months: i64,
        state: &'static str,
    },
    /// Billed yearly, started `months` ago.
    Annual { plan: &'static str, months: i64 },
    /// Started on `from` `months` ago, moved to `to` `moved_months` ago.
    Upgraded {
        from: &'static str,
        to: &'static str,
        months: i64,
        moved_months: i64,
    },
    /// A post-launch stabilization window of `weeks`, started `days` ago.
    Stabilization {
        plan: &'static str,
        weeks: i64,
        days: i64,
    },
    /// No standing fee: help when asked, at the plan's rates.
    AsNeeded { plan: &'static str, months: i64 },
    /// Ran for `lasted` months from `months` ago, then ended.
    Ended {
        plan: &'static str,
        months: i64,
        lasted: i64,
    },
}

struct DemoClient {
    name: &'static str,
    slug: &'static str,
    timezone: &'static str,
    /// Empty: the default week (Mon–Fri 09:00–17:00).
    hours: &'static str,
    /// `{y}` is this year, `{n}` next year.
    holidays: &'static str,
    owner: &'static str,
    notes: &'static str,
    /// (name, email, role, phone)
    contacts: &'static [(&'static str, &'static str, &'static str, &'static str)],
    story: Story,
}

const CLIENTS: &[DemoClient] = &[
    DemoClient {
        name: "Brightsmile Dental Group",
        slug: "brightsmile-dental",
        timezone: "America/Chicago",
        hours: "mon-thu 08:00-18:00\nfri 08:00-14:00",
        holidays: "{y}-12-24 Christmas Eve\n{y}-12-25 Christmas Day\n{n}-01-01 New Year's Day",
        owner: "maya@demo.tend",
        notes: "Three locations. GoHighLevel CRM, Twilio SMS reminders, booking sync from the practice system. Revenue-critical: new-patient booking and recall reminders.",
        contacts: &[
            ("Dr. Priya Nair", "priya.nair@brightsmile-dental.example", "approval-owner", ""),
            ("Kelsey Moore", "kelsey.moore@brightsmile-dental.example", "requester", "+1 312 555 0142"),
            ("Brightsmile Accounts", "accounts@brightsmile-dental.example", "billing", ""),
        ],
        story: Story::Upgraded { from: "STARTER", to: "GROWTH", months: 9, moved_months: 3 },
    },
    DemoClient {
        name: "Harper Academy",
        slug: "harper-academy",
        timezone: "Europe/London",
        hours: "",
        holidays: "",
        owner: "leo@demo.tend",
        notes: "Online courses: Kajabi, Stripe checkout, ConvertKit sequences. Course access must follow payment within minutes.",
        contacts: &[
            ("Jess Harper", "jess@harper-academy.example", "approval-owner", "+44 20 7946 0321"),
            ("Tom Reid", "tom@harper-academy.example", "requester", ""),
        ],
        story: Story::Retainer { plan: "STARTER", months: 5, state: "active" },
    },
    DemoClient {
        name: "Keystone Realty Team",
        slug: "keystone-realty",
        timezone: "America/Denver",
        hours: "mon-fri 08:00-18:00\nsat 09:00-13:00",
        holidays: "",
        owner: "maya@demo.tend",
        notes: "Follow Up Boss lead routing, portal lead intake, showing-request texts. Speed-to-lead matters most.",
        contacts: &[
            ("Marcus Bell", "marcus@keystone-realty.example", "approval-owner", "+1 303 555 0178"),
            ("Alicia Gomez", "alicia@keystone-realty.example", "requester", ""),
            ("Keystone Billing", "billing@keystone-realty.example", "billing", ""),
        ],
        story: Story::Retainer { plan: "GROWTH", months: 14, state: "active" },
    },
    DemoClient {
        name: "Glow Aesthetics Med Spa",
        slug: "glow-med-spa",
        timezone: "America/Los_Angeles",
        hours: "tue-fri 10:00-14:00 15:00-19:00\nsat 09:00-15:00",
        holidays: "{y}-12-25 Christmas Day",
        owner: "leo@demo.tend",
        notes: "Booking, consultation follow-ups and review requests. No client health information in tickets.",
        contacts: &[
            ("Dr. Elena Park", "elena@glow-medspa.example", "approval-owner", ""),
            ("Brianna Cole", "frontdesk@glow-medspa.example", "requester", "+1 415 555 0119"),
        ],
        story: Story::Retainer { plan: "GROWTH", months: 7, state: "active" },
    },
    DemoClient {
        name: "Northbound Coaching",
        slug: "northbound-coaching",
        timezone: "Australia/Sydney",
        hours: "",
        holidays: "{n}-01-26 Australia Day",
        owner: "leo@demo.tend",
        notes: "Just launched: Calendly discovery calls into HubSpot, AI-drafted follow-up emails. Watching the first weeks of real traffic.",
        contacts: &[
            ("Ruby Nguyen", "ruby@northbound-coaching.example", "approval-owner", ""),
            ("Daniel Cho", "daniel@northbound-coaching.example", "requester", ""),
        ],
        story: Story::Stabilization { plan: "STARTER", weeks: 4, days: 9 },
    },
    DemoClient {
        name: "Ledgerly",
        slug: "ledgerly",
        timezone: "Europe/Berlin",
        hours: "mon-fri 09:00-18:00",
        holidays: "{y}-10-03 Day of German Unity\n{y}-12-25 Christmas Day\n{y}-12-26 Second Day of Christmas",
        owner: "maya@demo.tend",
        notes: "SaaS startup: Stripe to HubSpot lifecycle stages, product-usage events to Slack, churn-risk alerts.",
        contacts: &[
            ("Jonas Weber", "jonas@ledgerly.example", "approval-owner", ""),
            ("Lea Fischer", "lea@ledgerly.example", "requester", ""),
            ("Ledgerly Finance", "finance@ledgerly.example", "billing", ""),
        ],
        story: Story::Annual { plan: "ENTERPRISE", months: 10 },
    },
    DemoClient {
        name: "Hale & Whitmore LLP",
        slug: "hale-whitmore",
        timezone: "America/New_York",
        hours: "mon-fri 08:30-18:00",
        holidays: "{y}-12-25 Christmas Day\n{n}-01-01 New Year's Day",
        owner: "maya@demo.tend",
        notes: "Law firm: web intake to the case system, conflict-check handoff, consultation scheduling. Never paste client documents into tickets.",
        contacts: &[
            ("Catherine Hale", "chale@halewhitmore.example", "approval-owner", "+1 212 555 0186"),
            ("Owen Brooks", "obrooks@halewhitmore.example", "requester", ""),
            ("Hale & Whitmore Accounts", "accounts@halewhitmore.example", "billing", ""),
        ],
        story: Story::Retainer { plan: "ENTERPRISE", months: 20, state: "active" },
    },
    DemoClient {
        name: "Pawsitive Vet Clinics",
        slug: "pawsitive-vet",
        timezone: "Australia/Melbourne",
        hours: "mon-fri 08:00-19:00\nsat 08:00-12:00",
        holidays: "",
        owner: "leo@demo.tend",
        notes: "Paused while the clinics move to a new practice-management system; resume after the cut-over.",
        contacts: &[
            ("Dr. Hamish Grant", "hamish@pawsitive-vet.example", "approval-owner", ""),
            ("Sophie Tran", "sophie@pawsitive-vet.example", "requester", ""),
        ],
        story: Story::Retainer { plan: "GROWTH", months: 11, state: "paused" },
    },
    DemoClient {
        name: "Fernwood Fitness Studio",
        slug: "fernwood-fitness",
        timezone: "Europe/Dublin",
        hours: "mon-fri 06:00-21:00\nsat-sun 08:00-14:00",
        holidays: "",
        owner: "maya@demo.tend",
        notes: "Offboarding: an in-house operations hire takes over. Hand over documentation and exports before the renewal date.",
        contacts: &[
            ("Aoife Byrne", "aoife@fernwood-fitness.example", "approval-owner", ""),
            ("Ciaran Walsh", "accounts@fernwood-fitness.example", "billing", ""),
        ],
        story: Story::Retainer { plan: "STARTER", months: 16, state: "offboarding" },
    },
    DemoClient {
        name: "Copper Kettle Catering",
        slug: "copper-kettle",
        timezone: "Europe/London",
        hours: "",
        holidays: "",
        owner: "leo@demo.tend",
        notes: "Contract ended; quote and invoice workflows handed over with documentation.",
        contacts: &[("Harriet Lowe", "harriet@copperkettle.example", "approval-owner", "")],
        story: Story::Ended { plan: "STARTER", months: 18, lasted: 12 },
    },
    DemoClient {
        name: "Tidewater Home Services",
        slug: "tidewater-home",
        timezone: "America/New_York",
        hours: "mon-fri 07:00-17:00",
        holidays: "",
        owner: "leo@demo.tend",
        notes: "HVAC and plumbing: missed-call text-back and quote follow-ups. Stable; help as needed, billed hourly.",
        contacts: &[
            ("Mike Donnelly", "mike@tidewater-home.example", "approval-owner", "+1 757 555 0134"),
            ("Tara Donnelly", "office@tidewater-home.example", "billing", ""),
        ],
        story: Story::AsNeeded { plan: "STARTER", months: 6 },
    },
    DemoClient {
        name: "Atlas Physio Group",
        slug: "atlas-physio",
        timezone: "Europe/Amsterdam",
        hours: "mon-fri 07:30-20:00",
        holidays: "{y}-12-25 Christmas Day\n{y}-12-26 Boxing Day",
        owner: "maya@demo.tend",
        notes: "Six clinics: online booking, no-show reminders, insurer pre-authorisation workflow, weekly dashboards.",
        contacts: &[
            ("Sanne de Vries", "sanne@atlasphysio.example", "approval-owner", ""),
            ("Joris Bakker", "joris@atlasphysio.example", "requester", "+31 20 555 0147"),
            ("Atlas Finance", "finance@atlasphysio.example", "billing", ""),
        ],
        story: Story::Retainer { plan: "ENTERPRISE", months: 4, state: "active" },
    },
];

/// What `load` wrote.
#[derive(Debug, Default)]
pub struct DemoReport {
    pub users: usize,
    pub existing_users: Vec<&'static str>,
    pub clients: usize,
    pub contacts: usize,
    pub contracts: usize,
    pub tickets: usize,
}

/// A demo request: what the agency is working on for its clients today.
struct DemoTicket {
    client: &'static str,
    title: &'static str,
    severity: &'static str,
    source: &'static str,
    owner: &'static str,
    blocked_by: &'static str,
    expected_outcome: &'static str,
    next_action: &'static str,
    business_risk: &'static str,
    /// Status moves after opening, in order ("acknowledged", "in-progress", …).
    moves: &'static [&'static str],
    /// A public reply, if the client has heard back.
    reply: &'static str,
}

const TICKETS: &[DemoTicket] = &[
    DemoTicket {
        client: "brightsmile-dental",
        title: "New-patient bookings are not reaching the CRM",
        severity: "p1",
        source: "monitoring-alert",
        owner: "maya@demo.tend",
        blocked_by: "none",
        expected_outcome: "Every online booking creates a GoHighLevel contact within a minute",
        next_action: "Re-authorise the booking webhook and replay today's bookings",
        business_risk: "high",
        moves: &["acknowledged", "in-progress"],
        reply: "Hi Kelsey, we saw bookings stop syncing at 8:40 and are on it. Next update within the hour.",
    },
    DemoTicket {
        client: "brightsmile-dental",
        title: "Add the UTM source to the booking form",
        severity: "p3",
        source: "email",
        owner: "leo@demo.tend",
        blocked_by: "#1",
        expected_outcome: "Each new contact carries the ad campaign it came from",
        next_action: "Map the hidden UTM field once the webhook is fixed",
        business_risk: "low",
        moves: &[],
        reply: "",
    },
    DemoTicket {
        client: "harper-academy",
        title: "Course access emails go out twice after checkout",
        severity: "p2",
        source: "portal",
        owner: "leo@demo.tend",
        blocked_by: "none",
        expected_outcome: "One access email per purchase",
        next_action: "Waiting for the client to say which checkout page they changed",
        business_risk: "medium",
        moves: &["acknowledged", "waiting-on-client"],
        reply: "Hi! Quick question to pin this down: did anything change on the checkout page last week?",
    },
    DemoTicket {
        client: "keystone-realty",
        title: "AI follow-up agent stopped answering new leads",
        severity: "p0",
        source: "phone",
        owner: "maya@demo.tend",
        blocked_by: "none",
        expected_outcome: "Every new lead gets its first AI reply within 5 minutes",
        next_action: "Rotate the expired OpenAI key and restart the follow-up workflow",
        business_risk: "high",
        moves: &["acknowledged"],
        reply: "",
    },
    DemoTicket {
        client: "glow-med-spa",
        title: "Review requests should wait 2 days after a treatment",
        severity: "p3",
        source: "email",
        owner: "",
        blocked_by: "",
        expected_outcome: "",
        next_action: "",
        business_risk: "",
        moves: &[],
        reply: "",
    },
    DemoTicket {
        client: "ledgerly",
        title: "Monthly revenue dashboard shows last month's numbers",
        severity: "p2",
        source: "proactive-finding",
        owner: "maya@demo.tend",
        blocked_by: "none",
        expected_outcome: "The dashboard refreshes by 7:00 every day",
        next_action: "Fix the scheduled refresh's timezone",
        business_risk: "medium",
        moves: &["acknowledged", "in-progress", "resolved"],
        reply: "Fixed: the refresh ran on UTC midnight; it now runs at 6:30 your time.",
    },
];

/// The sign-in hint printed by `tend demo` and `tend serve --demo`.
pub fn sign_in_hint() -> String {
    format!("sign in as {OWNER_EMAIL} with password {PASSWORD}")
}

/// Fills a database that has no clients yet. Refuses otherwise, so demo rows never mix
/// with real ones.
pub async fn load(store: &Store) -> Result<DemoReport, Failure> {
    let clients = store.count_clients().await?;
    if clients > 0 {
        return Err(Failure::new(format!(
            "this database already has {clients} client(s); demo data goes into an empty database only (use a new --data-dir)"
        )));
    }
    let actor = Actor::system("demo");
    let mut report = DemoReport::default();
    for u in USERS {
        let email =
            Email::parse(u.email).map_err(|e| FieldErrors::single("email", e.to_string()))?;
        if store.user_by_email(&email).await?.is_some() {
            report.existing_users.push(u.email);
            continue;
        }
        store
            .create_user(&actor, &email, u.name, u.role, PASSWORD)
            .await?;
        report.users += 1;
    }
    for (i, c) in CLIENTS.iter().enumerate() {
        // Spread start days over the month, so renewals do not all fall on one day.
        let shift = (i as i64 * 11) % 28;
        let (contacts, contracts) = add_client(store, &actor, c, shift).await?;
        report.clients += 1;
        report.contacts += contacts;
        report.contracts += contracts;
    }
    report.tickets = add_tickets(store, &actor).await?;
    Ok(report)
}

async fn add_tickets(store: &Store, actor: &Actor) -> Result<usize, Failure> {
    use tend_domain::ticket::{TicketDraft, TicketStatus};
    use tend_store::tickets::Visibility;
    for t in TICKETS {
        let draft = TicketDraft {
            client: t.client.into(),
            title: t.title.into(),
            severity: t.severity.into(),
            source: t.source.into(),
            owner_email: t.owner.into(),
            blocked_by: t.blocked_by.into(),
            expected_outcome: t.expected_outcome.into(),
            next_action: t.next_action.into(),
            business_risk: t.business_risk.into(),
            ..Default::default()
        }
        .parse()?;
        let number = store.create_ticket(actor, &draft).await?.number;
        if !t.reply.is_empty() {
            store
                .add_message(actor, None, number, Visibility::Public, t.reply)
                .await?;
        }
        for word in t.moves {
            let status = TicketStatus::parse(word).map_err(|e| Failure::new(e.to_string()))?;
            store.set_ticket_status(actor, number, status).await?;
        }
    }
    Ok(TICKETS.len())
}

/// For `tend serve --demo`: loads demo data into an empty database and returns the
/// sign-in hint; leaves a database with users or clients alone.
pub async fn prepare_for_serve(store: &Store) -> Result<Option<String>, Failure> {
    if store.count_users().await? == 0 && store.count_clients().await? == 0 {
        let report = load(store).await?;
        tracing::info!(
            users = report.users,
            clients = report.clients,
            contacts = report.contacts,
            "loaded demo data"
        );
        return Ok(Some(sign_in_hint()));
    }
    let owner = Email::parse(OWNER_EMAIL).map_err(|e| Failure::new(e.to_string()))?;
    if store.user_by_email(&owner).await?.is_some() {
        return Ok(Some(format!(
            "{} (demo data already loaded)",
            sign_in_hint()
        )));
    }
    tracing::warn!(
        "--demo: this database already has users or clients, so no demo data was loaded"
    );
    Ok(None)
}

async fn add_client(
    store: &Store,
    actor: &Actor,
    c: &DemoClient,
    shift_days: i64,
) -> Result<(usize, usize), Failure> {
    let zone =
        Timezone::parse(c.timezone).map_err(|e| FieldErrors::single("timezone", e.to_string()))?;
    let today = jiff::Timestamp::now().to_zoned(zone.zone()).date();
    let holidays = c
        .holidays
        .replace("{y}", &today.year().to_string())
        .replace("{n}", &(today.year() + 1).to_string());
    let client = ClientDraft {
        name: c.name.into(),
        slug: c.slug.into(),
        timezone: c.timezone.into(),
        business_hours: c.hours.into(),
        holidays,
        owner_email: c.owner.into(),
        notes: c.notes.into(),
    }
    .parse()?;

    let (first, change) = contract_story(&c.story, today, shift_days)?;
    let mut tx = store.begin().await?;
    let client_id = store.insert_client(&mut tx, actor, &client).await?;
    let contract_id = store
        .insert_contract(&mut tx, actor, client_id, &first)
        .await?;
    tx.commit().await?;
    if let Some((moved, effective)) = change {
        store
            .update_contract(actor, contract_id, &moved, effective)
            .await?;
    }

    for (name, email, role, phone) in c.contacts {
        let contact = ContactDraft {
            name: (*name).into(),
            email: (*email).into(),
            role: (*role).into(),
            phone: (*phone).into(),
        }
        .parse()?;
        store.create_contact(actor, client_id, &contact).await?;
    }
    Ok((c.contacts.len(), 1))
}

/// The first contract of a story, and the later plan change if the story has one
/// (the changed contract and the day the change took effect). Month-based dates are
/// moved `shift_days` earlier.
fn contract_story(
    story: &Story,
    today: Date,
    shift_days: i64,
) -> Result<(ContractInput, Option<(ContractInput, Date)>), Failure> {
    let months_ago = |m: i64| {
        today
            .checked_sub(m.months().days(shift_days))
            .unwrap_or(today)
    };
    let draft = |plan: &str, model: &str, start: Date, renewal: Date, state: &str| ContractDraft {
        plan: plan.into(),
        support_model: model.into(),
        stabilization_weeks: String::new(),
        start_date: start.to_string(),
        billing_period: "monthly".into(),
        renewal_date: renewal.to_string(),
        state: state.into(),
    };
    let parsed = |d: ContractDraft| d.parse(today).map_err(Failure::from);
    Ok(match *story {
        Story::Retainer {
            plan,
            months,
            state,
        } => {
            let start = months_ago(months);
            let renewal = next_anniversary(start, today, 1.month());
            (
                parsed(draft(plan, "monthly-retainer", start, renewal, state))?,
                None,
            )
        }
        Story::Annual { plan, months } => {
            let start = months_ago(months);
            let renewal = next_anniversary(start, today, 1.year());
            let mut d = draft(plan, "monthly-retainer", start, renewal, "active");
            d.billing_period = "annual".into();
            (parsed(d)?, None)
        }
        Story::Upgraded {
            from,
            to,
            months,
            moved_months,
        } => {
            let start = months_ago(months);
            let renewal = next_anniversary(start, today, 1.month());
            let first = parsed(draft(from, "monthly-retainer", start, renewal, "active"))?;
            let moved = parsed(draft(to, "monthly-retainer", start, renewal, "active"))?;
            (first, Some((moved, months_ago(moved_months))))
        }
        Story::Stabilization { plan, weeks, days } => {
            let start = today.checked_sub(days.days()).unwrap_or(today);
            let renewal = start.checked_add(weeks.weeks()).unwrap_or(today);
            let mut d = draft(plan, "stabilization", start, renewal, "active");
            d.stabilization_weeks = weeks.to_string();
            (parsed(d)?, None)
        }
        Story::AsNeeded { plan, months } => {
            let start = months_ago(months);
            let renewal = next_anniversary(start, today, 1.month());
            (
                parsed(draft(plan, "as-needed", start, renewal, "active"))?,
                None,
            )
        }
        Story::Ended {
            plan,
            months,
            lasted,
        } => {
            let start = months_ago(months);
            let end = start.checked_add(lasted.months()).unwrap_or(today);
            (
                parsed(draft(plan, "monthly-retainer", start, end, "ended"))?,
                None,
            )
        }
    })
}

/// The first date after `today` that is a whole number of `step`s after `start`.
fn next_anniversary(start: Date, today: Date, step: jiff::Span) -> Date {
    let mut n: i64 = 1;
    loop {
        let next = step
            .checked_mul(n)
            .ok()
            .and_then(|span| start.checked_add(span).ok());
        match next {
            Some(date) if date > today => return date,
            Some(_) => n += 1,
            // Past the end of the calendar: no sensible renewal, so tomorrow.
            None => return today.tomorrow().unwrap_or(today),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_renewal_is_the_next_anniversary_after_today() {
        let start = date(2025, 1, 31);
        assert_eq!(
            next_anniversary(start, date(2025, 3, 10), 1.month()),
            date(2025, 3, 31)
        );
        assert_eq!(
            next_anniversary(start, date(2025, 3, 31), 1.month()),
            date(2025, 4, 30)
        );
        assert_eq!(
            next_anniversary(start, date(2025, 6, 1), 1.year()),
            date(2026, 1, 31)
        );
    }

    #[test]
    fn every_demo_story_parses_into_a_contract() {
        for c in CLIENTS {
            let today = date(2026, 3, 15);
            let (first, change) = contract_story(&c.story, today, 27).unwrap();
            assert!(first.start_date <= today, "{}", c.slug);
            if let Some((moved, effective)) = change {
                assert_ne!(moved.plan_code, first.plan_code);
                assert!(effective > first.start_date);
            }
        }
    }

    #[test]
    fn the_demo_covers_every_tier_and_contract_shape() {
        let plan = |s: &Story| match *s {
            Story::Retainer { plan, .. }
            | Story::Annual { plan, .. }
            | Story::Stabilization { plan, .. }
            | Story::AsNeeded { plan, .. }
            | Story::Ended { plan, .. } => plan,
            Story::Upgraded { to, .. } => to,
        };
        for tier in ["STARTER", "GROWTH", "ENTERPRISE"] {
            assert!(CLIENTS.iter().any(|c| plan(&c.story) == tier), "{tier}");
        }
        let states: Vec<&str> = CLIENTS
            .iter()
            .filter_map(|c| match c.story {
                Story::Retainer { state, .. } => Some(state),
                _ => None,
            })
            .collect();
        for state in ["active", "paused", "offboarding"] {
            assert!(states.contains(&state), "{state}");
        }
        assert!(CLIENTS.iter().all(|c| (1..=3).contains(&c.contacts.len())));
        assert!(CLIENTS
            .iter()
            .any(|c| matches!(c.story, Story::Ended { .. })));
    }
}
