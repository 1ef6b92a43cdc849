//! The command line: subcommands, their arguments and their help text.

use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand};

use crate::config::{Flags, LogFormat};

const EXAMPLES: &str = "\
Examples:
  tend serve --demo                      try Tend with demo data on http://127.0.0.1:8080
  tend user add ana@agency.com --role owner
  tend client add --name \"Acme Dental\" --timezone America/Chicago --plan GROWTH
  tend client list --plan GROWTH --state active
  TEND_DATABASE_URL=postgres://tend@db/tend tend serve --listen 0.0.0.0:8080

Configuration is read from flags, then TEND_* environment variables, then tend.toml,
then defaults; `tend config` prints the result. See docs/configuration.md.";

#[derive(Debug, Parser)]
#[command(
    name = "tend",
    version,
    about = "Tend: the support desk for automation retainers.",
    long_about = "Tend: the support desk for automation retainers.\n\nOne program: the web server (staff UI and REST API) and the commands to set it up and look after it.",
    after_help = EXAMPLES,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The configuration flags; each also has an environment variable and a tend.toml key.
#[derive(Debug, Args)]
#[command(next_help_heading = "Configuration (flag > TEND_* env > tend.toml > default)")]
pub struct GlobalArgs {
    /// Address and port the web server listens on [env: TEND_LISTEN] [default: 127.0.0.1:8080]
    #[arg(long, global = true, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Directory of the SQLite file tend.db, created if missing [env: TEND_DATA_DIR] [default: ./data]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database to use; a postgres:// URL switches to PostgreSQL [env: TEND_DATABASE_URL] [default: sqlite://<data-dir>/tend.db]
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// tend.toml to read [env: TEND_CONFIG] [default: ./tend.toml if present]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Mark cookies Secure (when served over HTTPS); --secure-cookies=false turns it off [env: TEND_SECURE_COOKIES] [default: false]
    #[arg(
        long,
        global = true,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = BoolishValueParser::new()
    )]
    pub secure_cookies: Option<bool>,
    /// Log line format [env: TEND_LOG_FORMAT] [default: text]
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    /// Log filter, e.g. info or tend=debug,sqlx=warn [env: TEND_LOG] [default: info]
    #[arg(long, global = true, value_name = "FILTER")]
    pub log: Option<String>,
}

impl GlobalArgs {
    pub fn flags(&self) -> Flags {
        Flags {
            listen: self.listen.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            secure_cookies: self.secure_cookies,
            log_format: self.log_format,
            log: self.log.clone(),
            config: self.config.clone(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server: migrate the database, then serve the UI and API
    #[command(after_help = "\
Examples:
  tend serve                              serve on 127.0.0.1:8080 with ./data/tend.db
  tend serve --demo                       load demo data into an empty database first
  tend serve --listen 0.0.0.0:8080 --secure-cookies   behind an HTTPS proxy")]
    Serve {
        /// Fill an empty database (no users, no clients) with demo data before serving
        #[arg(long)]
        demo: bool,
        /// Serve only: leave email delivery and the SLA scan to other instances
        #[arg(long)]
        no_jobs: bool,
    },
    /// Apply database migrations and say what was applied
    Migrate,
    /// Fill an empty database with demo data (an agency with a dozen clients)
    Demo,
    /// Staff users: add, list, change a password
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens: create, list, revoke
    #[command(subcommand)]
    Token(TokenCommand),
    /// Clients: list, add, show
    #[command(subcommand)]
    Client(ClientCommand),
    /// Support plans
    #[command(subcommand)]
    Plan(PlanCommand),
    /// Tickets: open, list, show, reply, move
    #[command(subcommand)]
    Ticket(TicketCommand),
    /// Release batches of one client each: list, new, show, notes, mark-released
    #[command(subcommand)]
    Release(ReleaseCommand),
    /// SLA: attainment (share met within target) and a scan for warnings and breaches
    #[command(subcommand)]
    Sla(SlaCommand),
    /// Heartbeat checks: add, list, pause, resume
    #[command(subcommand)]
    Check(CheckCommand),
    /// Maintenance windows that hold back check alerts: add, list, end
    #[command(subcommand)]
    Maintenance(MaintenanceCommand),
    /// Record a ping for a check, as its ping URL would: a quick test
    #[command(after_help = "\
Examples:
  tend ping 5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278          a success
  tend ping 5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278 fail     a failure (also: start, log, 0-255)")]
    Ping {
        /// The check's UUID (the last part of its ping URL)
        uuid: String,
        /// start, fail, log or an exit status 0-255; none is a success
        signal: Option<String>,
    },
    /// The ranked backlog of open tickets, across clients or for one
    #[command(after_help = "\
Examples:
  tend backlog                     every open ticket, most urgent first, with why
  tend backlog --client acme       one client's queue")]
    Backlog {
        /// Only this client's queue (by slug)
        #[arg(long)]
        client: Option<String>,
        /// Only tickets with an SLA clock that has breached or will within these hours
        #[arg(long, value_name = "HOURS", value_parser = clap::value_parser!(u16).range(0..=720))]
        breaching_within: Option<u16>,
    },
    /// Copy the SQLite database to a new file while Tend keeps running
    #[command(after_help = "\
Example:
  tend backup backups/tend-$(date +%F).db

On PostgreSQL use pg_dump instead.")]
    Backup {
        /// The file to write; it must not exist yet
        file: PathBuf,
    },
    /// Write everything stored about one client as one JSON document
    #[command(after_help = "\
Examples:
  tend export --client brightsmile-dental > brightsmile.json
  tend export --client brightsmile-dental --output brightsmile.json")]
    Export {
        /// The client's slug
        #[arg(long, value_name = "SLUG")]
        client: String,
        /// Write to this file instead of standard output
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print the effective configuration and where each value came from
    Config,
    /// Log time worked on a ticket; included work draws from the client's hour bank
    #[command(after_help = "\
Examples:
  tend log 1h30m --ticket 42 --type bug-fix \"Fixed the CRM sync\"
  tend log 20m --ticket 42 --type consultation --date 2026-11-05
  tend log 1h --ticket 42 --type bug-fix --after-limit overage \"approved by Ana\"

Durations: 1h30m, 90m, 1.5h or a number of minutes; at most 24h per entry. Once the
period's hours are used up, included work needs --after-limit: overage (bill it now at
the overage rate), defer (draw it from the next period's hours) or upgrade (approved
plan upgrade: it draws from the next period, on the new plan).")]
    Log {
        /// The time worked: 1h30m, 90m, 1.5h or 45
        duration: String,
        /// The ticket worked on (42 or #42)
        #[arg(long, value_name = "NUMBER")]
        ticket: String,
        /// The work type code: bug-fix, performance, minor-config, monitoring, consultation (included); new-feature, refactoring, training, data-work, emergency-after-hours (billable)
        #[arg(long = "type", value_name = "CODE")]
        work_type: String,
        /// The day worked, in the client's timezone [default: today]
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<String>,
        /// After 100 % of the hours: overage, defer or upgrade
        #[arg(long, value_name = "CHOICE")]
        after_limit: Option<String>,
        /// What was done (the sheet's notes)
        note: Vec<String>,
    },
    /// A client's hour bank and hour tracking sheet for a period
    #[command(after_help = "\
Examples:
  tend hours --client acme-dental                   the open period
  tend hours --client acme-dental --period 2026-11  the period starting in November 2026
  tend hours --client acme-dental --csv > sheet.csv")]
    Hours {
        /// The client's slug
        #[arg(long, value_name = "SLUG")]
        client: String,
        /// A month (2026-11: the period starting in it) or a date inside the period
        #[arg(long, value_name = "PERIOD")]
        period: Option<String>,
        /// Print the sheet as CSV
        #[arg(long)]
        csv: bool,
    },
    /// Close every hour-bank period that has ended: carry, expire, grant the next
    #[command(after_help = "\
Examples:
  tend close-month                          close what has ended (safe to run twice)
  tend close-month --dry-run                show what would close, write nothing
  tend close-month --dry-run --as-of 2027-01-05   preview the closes due by a date

`tend serve` runs the close every hour by itself; missed months are closed in order.")]
    CloseMonth {
        /// Show what would close and write nothing
        #[arg(long)]
        dry_run: bool,
        /// With --dry-run: preview as of this date (UTC midnight)
        #[arg(long, value_name = "YYYY-MM-DD", requires = "dry_run")]
        as_of: Option<String>,
    },
    /// The billing export for a month: fee, included hours, overage, emergency, other work
    #[command(after_help = "\
Examples:
  tend billing --period 2026-11
  tend billing --period 2026-11 --csv > billing-2026-11.csv

Amounts in the CSV are integer cents, one row per line item.")]
    Billing {
        /// The month (each contract's period starting in it)
        #[arg(long, value_name = "YYYY-MM")]
        period: String,
        /// Print CSV, one row per line item
        #[arg(long)]
        csv: bool,
    },
    /// Messages Tend sends: list them, deliver what is due, retry a failed one
    #[command(subcommand)]
    Outbox(OutboxCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a staff user; the password is read from stdin or generated and printed once
    #[command(after_help = "\
The password is read from standard input (one line) when it is not a terminal;
otherwise a strong one is generated and printed once.

Examples:
  tend user add ana@agency.com --role owner --name \"Ana Silva\"
  printf '%s\\n' \"$PASSWORD\" | tend user add sam@agency.com --role viewer")]
    Add {
        /// Email address the user signs in with
        email: String,
        /// owner (everything, including plans), staff (day-to-day work) or viewer (read only)
        #[arg(long, value_name = "ROLE")]
        role: String,
        /// Display name (default: the part of the email before @)
        #[arg(long)]
        name: Option<String>,
        /// Generate a password even when standard input is not a terminal
        #[arg(long)]
        generate_password: bool,
    },
    /// List staff users
    List,
    /// Set a new password for a user (and sign them out everywhere)
    #[command(after_help = "\
Examples:
  tend user passwd ana@agency.com                     generate and print a new password
  printf '%s\\n' \"$PASSWORD\" | tend user passwd ana@agency.com")]
    Passwd {
        /// The user's email address
        email: String,
        /// Generate a password even when standard input is not a terminal
        #[arg(long)]
        generate_password: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token and print its secret once
    #[command(after_help = "\
Example:
  tend token create --name \"Zapier sync\" --scope write

Send it as `Authorization: Bearer <secret>`.")]
    Create {
        /// What the token is for, to recognise it later
        #[arg(long)]
        name: String,
        /// read (GET only), write, or owner (also plans and hour-bank adjustments)
        #[arg(long, value_name = "SCOPE")]
        scope: String,
    },
    /// List API tokens (never their secrets)
    List,
    /// Revoke an API token by id (see `tend token list`)
    Revoke {
        /// The token's id
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// List clients with their plan and contract state, a page at a time
    #[command(after_help = "\
Examples:
  tend client list
  tend client list --search dental
  tend client list --plan GROWTH --state active --page 2 --per-page 10")]
    List {
        /// Part of the name or slug
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        /// Only clients whose current contract is on this plan
        #[arg(long, value_name = "CODE")]
        plan: Option<String>,
        /// Only clients whose current contract is active, paused, offboarding or ended
        #[arg(long)]
        state: Option<String>,
        /// Page number, from 1
        #[arg(long, value_name = "N")]
        page: Option<u32>,
        /// Clients per page (1 to 200)
        #[arg(long, value_name = "N")]
        per_page: Option<u32>,
    },
    /// Add a client with a monthly-retainer contract on a plan, starting today
    #[command(after_help = "\
The client and its contract are stored together or not at all. The contract starts
today in the client's timezone and renews a month later.

Example:
  tend client add --name \"Acme Dental\" --slug acme-dental --timezone America/Chicago --plan GROWTH")]
    Add {
        /// The business's name
        #[arg(long)]
        name: String,
        /// Short identifier: lowercase letters, digits, hyphens (default: made from the name)
        #[arg(long)]
        slug: Option<String>,
        /// IANA timezone the client works in, e.g. America/Chicago or Europe/London
        #[arg(long, value_name = "ZONE")]
        timezone: String,
        /// Plan code, e.g. STARTER, GROWTH or ENTERPRISE (see `tend plan list`)
        #[arg(long, value_name = "CODE")]
        plan: String,
        /// Email of the staff user who owns the client technically
        #[arg(long, value_name = "EMAIL")]
        owner: Option<String>,
    },
    /// Show a client: contract, plan, contacts, business hours
    Show {
        /// The client's slug
        slug: String,
    },
    /// List a client's holidays, or add those of an .ics calendar file
    #[command(after_help = "\
All-day and multi-day events, and yearly repeats over this year and the next two, become
holidays; dates already listed keep their names. See docs/calendars.md.

Examples:
  tend client holidays acme
  tend client holidays acme --import us-holidays.ics --dry-run
  tend client holidays acme --import us-holidays.ics")]
    Holidays {
        /// The client's slug
        slug: String,
        /// An iCalendar (.ics) file whose dates to add
        #[arg(long, value_name = "FILE")]
        import: Option<PathBuf>,
        /// Only show what the import would add; save nothing
        #[arg(long, requires = "import")]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SlaCommand {
    /// First responses and resolutions met within target, per group and period
    #[command(after_help = "\
A clock counts on the day (in its client's timezone) its outcome was decided: the day it
was met, or the day its target ran out. Clocks still open and not yet due are not
counted. Without --from, the range is the period holding --to and the two before it;
without --to, it ends today. See docs/tickets.md.

Examples:
  tend sla attainment
  tend sla attainment --by plan --period quarter --from 2026-01-01 --to 2026-12-31
  tend sla attainment --by severity --client acme")]
    Attainment {
        /// client, plan or severity
        #[arg(long, default_value = "client")]
        by: String,
        /// month, week (ISO, from Monday) or quarter
        #[arg(long, default_value = "month")]
        period: String,
        /// First day, YYYY-MM-DD (included)
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Last day, YYYY-MM-DD (included)
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        /// Only this client (by slug)
        #[arg(long, value_name = "SLUG")]
        client: Option<String>,
    },
    /// Look at every open ticket's clocks once and queue a message for each new warning
    /// or breach (`tend serve` does this every sla_scan_seconds)
    Scan,
}

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// List plans: fee, hours, rollover, rates and response targets
    List,
}

#[derive(Debug, Subcommand)]
pub enum TicketCommand {
    /// Open a ticket and print its number
    #[command(after_help = "\
Examples:
  tend ticket new --client acme --severity P1 --title \"Leads stopped syncing\"
  tend ticket new --client acme --title \"Add a field\" --blocked-by none --next-action \"Ask for the field name\"")]
    New {
        /// The client's slug
        #[arg(long)]
        client: String,
        /// What is wrong or wanted, in one line
        #[arg(long)]
        title: String,
        /// P0 (system down) to P3 (enhancement)
        #[arg(long)]
        severity: Option<String>,
        /// How the request arrived: portal, email, api, cli, phone, monitoring-alert, proactive-finding
        #[arg(long, default_value = "cli")]
        source: String,
        /// Longer description
        #[arg(long)]
        description: Option<String>,
        /// The staff member who owns it, by email
        #[arg(long)]
        owner: Option<String>,
        /// Tickets this one waits for ("#3, #7"), or "none"
        #[arg(long)]
        blocked_by: Option<String>,
        /// What done looks like
        #[arg(long)]
        expected_outcome: Option<String>,
        /// The very next step
        #[arg(long)]
        next_action: Option<String>,
    },
    /// List tickets (open ones unless --all or --status)
    List {
        /// Only this client's tickets (by slug)
        #[arg(long)]
        client: Option<String>,
        /// new, ack, progress, waiting, resolved, closed
        #[arg(long)]
        status: Option<String>,
        /// P0, P1, P2 or P3
        #[arg(long)]
        severity: Option<String>,
        /// Include resolved and closed tickets
        #[arg(long)]
        all: bool,
        /// Only tickets missing source, priority, owner, dependency, expected outcome or next action
        #[arg(long)]
        incomplete: bool,
        /// Page number, from 1
        #[arg(long)]
        page: Option<u32>,
    },
    /// Show a ticket: fields, what is missing, thread and history
    Show {
        /// The ticket number (42 or #42)
        number: String,
    },
    /// Add a public reply (or an internal note) to a ticket
    Reply {
        /// The ticket number
        number: String,
        /// The text
        text: String,
        /// Staff-only note instead of a reply to the client
        #[arg(long)]
        internal: bool,
    },
    /// Email the client's contacts from a message template: shows it, or sends it
    #[command(after_help = "\
Examples:
  tend ticket email 42                          show the acknowledgement as it would go
  tend ticket email 42 --send                   send it to every contact of the client
  tend ticket email 42 --template resolved --to dana@acme.example --send")]
    Email {
        /// The ticket number
        number: String,
        /// acknowledge, status-update, resolved or post-mortem
        #[arg(long, default_value = "acknowledge")]
        template: String,
        /// A contact's email (repeat for several); default: every contact
        #[arg(long = "to", value_name = "EMAIL")]
        to: Vec<String>,
        /// Send it (without this, only show it); a message with [blanks] left is refused
        #[arg(long)]
        send: bool,
    },
    /// Move a ticket to another status
    #[command(after_help = "\
Examples:
  tend ticket status 42 waiting     waiting on the client (resolution clock pauses)
  tend ticket status 42 progress
  tend ticket status 42 resolved")]
    Status {
        /// The ticket number
        number: String,
        /// new, ack, progress, waiting, resolved, closed
        status: String,
    },
    /// Record or edit a ticket's change record; flags not given keep their value
    #[command(after_help = "\
Examples:
  tend ticket change 42 --what \"Webhook sends the rotated secret\" --systems \"GoHighLevel, Zapier\"
  tend ticket change 42 --qa-before \"Staging booking creates a contact\" --qa-before-result pass --release 3
  tend ticket change 42 --qa-after \"Live booking creates a contact\" --qa-after-result pass")]
    Change(ChangeArgs),
}

/// The fields of a change record, each optional: what is not given stays as stored.
#[derive(Debug, Args)]
pub struct ChangeArgs {
    /// The ticket number
    pub number: String,
    /// What changed (required the first time)
    #[arg(long, value_name = "TEXT")]
    pub what: Option<String>,
    /// Systems touched, separated by commas
    #[arg(long, value_name = "LIST")]
    pub systems: Option<String>,
    /// The QA test path run in staging before release
    #[arg(long, value_name = "TEXT")]
    pub qa_before: Option<String>,
    /// pass, fail or not-run
    #[arg(long, value_name = "RESULT")]
    pub qa_before_result: Option<String>,
    /// The QA test path run in production after release
    #[arg(long, value_name = "TEXT")]
    pub qa_after: Option<String>,
    /// pass, fail or not-run
    #[arg(long, value_name = "RESULT")]
    pub qa_after_result: Option<String>,
    /// A planned release of the ticket's client (its id), or none
    #[arg(long, value_name = "ID")]
    pub release: Option<String>,
    /// Notes for the client, shown in the release notes
    #[arg(long, value_name = "TEXT")]
    pub notes: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// List releases per client: planned ones first, then released ones
    List {
        /// Only this client's releases (by slug)
        #[arg(long)]
        client: Option<String>,
        /// planned or released
        #[arg(long)]
        state: Option<String>,
    },
    /// Plan a release for a client and print its id
    #[command(after_help = "\
Example:
  tend release new --client acme-dental --name \"November window\" --planned 2026-11-20")]
    New {
        /// The client's slug (a release and its notes go to one client)
        #[arg(long)]
        client: String,
        /// A name, used once per client
        #[arg(long)]
        name: String,
        /// The day it is planned for (YYYY-MM-DD)
        #[arg(long, value_name = "DATE")]
        planned: Option<String>,
    },
    /// Show a release: its changes with their QA, and whether it can be released
    Show {
        /// The release id
        id: String,
    },
    /// Print a release's notes as Markdown
    #[command(after_help = "\
Example:
  tend release notes 3 > acme-november.md")]
    Notes {
        /// The release id
        id: String,
    },
    /// Mark a release released: it is live and every change passed QA before and after
    MarkReleased {
        /// The release id
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// Add a heartbeat check (prints its ping URL) or, with --url, an HTTP probe
    #[command(after_help = "\
Examples:
  tend check add --client acme --name \"lead sync\" --period 5m --grace 1m
  tend check add --client acme --name backups --cron \"0 2 * * *\" --tz Europe/Berlin --grace 30m
  tend check add --client acme --name \"new leads\" --events       an event stream; prints its event URL
  tend check add --client acme --name \"booking page\" --url https://acme.example/book --every 60s \\
      --expect 200 --keyword Welcome --timeout 10s --max-latency 2s
  tend check add --client acme --name api --url https://api.acme.example/health \\
      --header 'Authorization: Bearer ${env:TEND_PROBE_ACME_TOKEN}'")]
    Add {
        /// The client's slug
        #[arg(long)]
        client: String,
        /// What people call it
        #[arg(long)]
        name: String,
        /// Its slug in slug ping URLs (default: made from the name)
        #[arg(long)]
        slug: Option<String>,
        /// The workflow it watches
        #[arg(long)]
        workflow: Option<String>,
        /// revenue-critical, customer-facing or internal (default)
        #[arg(long)]
        criticality: Option<String>,
        /// Expected every: 90s, 5m, 1h, 1d
        #[arg(long, conflicts_with = "cron")]
        period: Option<String>,
        /// Expected at the times of a cron expression instead
        #[arg(long)]
        cron: Option<String>,
        /// The cron expression's IANA timezone (default UTC)
        #[arg(long, value_name = "ZONE")]
        tz: Option<String>,
        /// Grace time after each deadline (default 1h)
        #[arg(long)]
        grace: Option<String>,
        /// An event stream instead: the workflow POSTs JSON events; prints the event URL
        #[arg(long, conflicts_with_all = ["period", "cron", "tz", "grace"])]
        events: bool,
        /// For --events: how many first events the shape is learned from (default 20)
        #[arg(long, value_name = "N", requires = "events")]
        learn_events: Option<String>,
        #[command(flatten)]
        probe: Box<crate::checks::ProbeArgs>,
    },
    /// Forget an event stream's learned shape; it learns again from the next events
    Relearn {
        /// The event stream's UUID
        uuid: String,
    },
    /// List checks with their state and last ping
    List {
        /// Only this client's checks (by slug)
        #[arg(long)]
        client: Option<String>,
        /// new, up, late, down or paused
        #[arg(long)]
        state: Option<String>,
    },
    /// Print a client's ping key, for slug URLs: /ping/<ping-key>/<slug>
    Key {
        /// The client's slug
        #[arg(long)]
        client: String,
    },
    /// Pause a check: no alerts until its next ping or until resumed
    Pause {
        /// The check's UUID
        uuid: String,
    },
    /// Resume a paused check; it waits for its next ping
    Resume {
        /// The check's UUID
        uuid: String,
    },
    /// Import checks for a client from a healthchecks.io project or a CSV file
    #[command(after_help = "\
A healthchecks.io project's checks are the JSON its management API lists:
  curl -H \"X-Api-Key: $HC_KEY\" https://healthchecks.io/api/v3/checks/ > checks.json
With a read-write key each check keeps its UUID, so its scripts only change host.
A CSV file has a header naming its columns: name, slug, workflow, criticality,
period, cron, timezone, grace, uuid (name and a period or cron are needed).

Examples:
  tend check import --client acme checks.json --dry-run
  tend check import --client acme checks.csv")]
    Import {
        /// The client's slug
        #[arg(long)]
        client: String,
        /// The file: .json (healthchecks.io) or .csv; `-` reads standard input
        file: std::path::PathBuf,
        /// json or csv (default: from the file's extension, else from its content)
        #[arg(long)]
        format: Option<String>,
        /// Check every row and print what would be added, writing nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Whether the check's recovery resolves its monitoring ticket (default off)
    #[command(after_help = "\
Examples:
  tend check resolve-on-recovery 5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278 on")]
    ResolveOnRecovery {
        /// The check's UUID
        uuid: String,
        /// on or off
        #[arg(value_parser = ["on", "off"])]
        setting: String,
    },
}

// Parsed once per run: the size of the `add` variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum MaintenanceCommand {
    /// Add a window: once (--starts/--ends), weekly (--days/--from/--until) or cron
    /// (--cron/--duration); wall-clock times in --tz (default UTC)
    #[command(after_help = "\
Examples:
  tend maintenance add --client acme --once --starts 2026-11-22T01:00 --ends 2026-11-22T03:00 --tz Europe/Berlin
  tend maintenance add --client acme --days sat,sun --from 22:00 --until 02:00 --tz America/Chicago
  tend maintenance add --client acme --check 5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278 --cron \"0 2 * * 6\" --duration 2h")]
    Add {
        /// The client's slug
        #[arg(long)]
        client: String,
        /// A check's UUID (repeat for several); none: every check of the client
        #[arg(long = "check")]
        checks: Vec<String>,
        /// A one-off window (the default when --starts is given)
        #[arg(long)]
        once: bool,
        /// Start of a one-off window: 2026-11-22T01:00 (in --tz) or an RFC 3339 instant
        #[arg(long)]
        starts: Option<String>,
        /// End of a one-off window
        #[arg(long)]
        ends: Option<String>,
        /// Weekdays of a weekly window: sat,sun or mon-fri or daily
        #[arg(long)]
        days: Option<String>,
        /// Start time of a weekly window, 22:00
        #[arg(long)]
        from: Option<String>,
        /// End time of a weekly window, 02:00 (before --from: runs past midnight)
        #[arg(long)]
        until: Option<String>,
        /// A cron expression: the window opens each time it fires
        #[arg(long)]
        cron: Option<String>,
        /// How long a cron window stays open: 2h
        #[arg(long)]
        duration: Option<String>,
        /// IANA timezone of the times (default UTC)
        #[arg(long, value_name = "ZONE")]
        tz: Option<String>,
        /// Why (shown in lists and the audit log)
        #[arg(long)]
        reason: Option<String>,
    },
    /// List windows, newest first
    List {
        /// Only this client's windows (by slug)
        #[arg(long)]
        client: Option<String>,
        /// Include windows that have ended
        #[arg(long)]
        ended: bool,
    },
    /// End a window now; alerts it held back for checks still down go out
    End {
        /// The window's id (from `tend maintenance list`)
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// The newest messages first, with their state
    #[command(after_help = "\
Examples:
  tend outbox list                 the last 50 messages
  tend outbox list --trouble       failed ones and ones waiting to be retried
  tend outbox list --drafts        drafted emails waiting for review")]
    List {
        /// Only messages that failed or are waiting for a retry
        #[arg(long, conflicts_with = "drafts")]
        trouble: bool,
        /// Only drafted emails waiting for a person to send them
        #[arg(long)]
        drafts: bool,
        /// How many to show
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Send every message that is due now through the configured smtp_url
    Deliver,
    /// Put a failed message back in the queue to be sent now
    Retry {
        /// The message's id (from `tend outbox list`)
        id: i64,
    },
    /// Print one message: who it is to, its state, subject and body
    Show {
        /// The message's id (from `tend outbox list`)
        id: i64,
    },
    /// Send a drafted email, as drafted or with a new subject or body
    #[command(after_help = "\
Examples:
  tend outbox show 12                           read the draft first
  tend outbox send 12                           send it as drafted
  tend outbox send 12 --body-file reply.txt     send it with the body you wrote")]
    Send {
        /// The draft's id (from `tend outbox list --drafts`)
        id: i64,
        /// A new subject
        #[arg(long)]
        subject: Option<String>,
        /// A file holding the new body (`-` reads standard input)
        #[arg(long, value_name = "PATH")]
        body_file: Option<std::path::PathBuf>,
    },
    /// Discard a drafted email unsent (it stays listed as discarded)
    Discard {
        /// The draft's id (from `tend outbox list --drafts`)
        id: i64,
        /// Confirm: without it nothing is discarded
        #[arg(long)]
        yes: bool,
    },
}
