//! `tend sla attainment`: the share of first responses and resolutions met within
//! target, as the API and the SLA page give it (`tend_domain::attainment`'s rules).

use tend_domain::attainment::{parse_date, DateRange, GroupBy, Period, Tally};
use tend_domain::FieldErrors;
use tend_store::attainment::AttainmentQuery;
use tend_store::Store;

use crate::failure::{Failure, NotFoundAs};
use crate::table::Table;

fn field<T, E: std::fmt::Display>(name: &str, value: Result<T, E>) -> Result<T, Failure> {
    value.map_err(|e| FieldErrors::single(name, e.to_string()).into())
}

pub async fn attainment(
    store: &Store,
    by: &str,
    period: &str,
    from: Option<String>,
    to: Option<String>,
    client: Option<String>,
) -> Result<String, Failure> {
    let by = field("by", GroupBy::parse(by))?;
    let period = field("period", Period::parse(period))?;
    let from = from
        .as_deref()
        .map(|d| field("from", parse_date(d)))
        .transpose()?;
    let to = to
        .as_deref()
        .map(|d| field("to", parse_date(d)))
        .transpose()?;
    let client = match client.as_deref() {
        Some(slug) => Some(
            store
                .client_by_slug(slug, false)
                .await
                .not_found_as(|| format!("there is no client {slug}"))?,
        ),
        None => None,
    };
    // Today where the client is, or where this machine is.
    let today = match &client {
        Some(c) => jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::get(&c.timezone).unwrap_or(jiff::tz::TimeZone::UTC))
            .date(),
        None => jiff::Zoned::now().date(),
    };
    let range = field(
        if from.is_some() { "from" } else { "to" },
        DateRange::from_parts(from, to, period, today),
    )?;
    let report = store
        .attainment(
            &AttainmentQuery {
                by,
                period,
                range,
                client_id: client.as_ref().map(|c| c.id),
            },
            jiff::Timestamp::now(),
        )
        .await?;
    let a = &report.attainment;
    let mut out = format!(
        "By {by}, per {period}, {} to {}{}.\n",
        range.from,
        range.to,
        client
            .as_ref()
            .map(|c| format!(", {} only", c.name))
            .unwrap_or_default()
    );
    if a.rows.is_empty() {
        out.push_str("No clock was met or missed in this range.\n");
    } else {
        let cell = |t: Tally| t.to_string();
        let mut table = Table::new(&[
            &by.as_str().to_uppercase(),
            "PERIOD",
            "FIRST RESPONSE",
            "RESOLUTION",
        ]);
        for total in &a.totals {
            for row in a.rows.iter().filter(|r| r.group == total.group) {
                table.row(vec![
                    row.group.clone(),
                    row.period.label.clone(),
                    cell(row.attained.response),
                    cell(row.attained.resolution),
                ]);
            }
            table.row(vec![
                total.group.clone(),
                "total".into(),
                cell(total.attained.response),
                cell(total.attained.resolution),
            ]);
        }
        out.push_str(&table.render());
        out.push_str(&format!(
            "Overall: first response {}, resolution {}.\n",
            cell(a.overall.response),
            cell(a.overall.resolution)
        ));
    }
    if !report.unmeasured.is_empty() {
        let list: Vec<String> = report
            .unmeasured
            .iter()
            .map(|u| format!("#{} ({})", u.number, u.reason))
            .collect();
        out.push_str(&format!("Not counted: {}.\n", list.join(", ")));
    }
    Ok(out)
}
