//! Everything stored about one client as one JSON document: the client's own copy of
//! their data, and the offboarding hand-over.

use serde::Serialize;
use tend_domain::page::PageRequest;
use tend_domain::page::MAX_PAGE_SIZE;

use crate::audit::AuditEntry;
use crate::clients::Client;
use crate::contacts::Contact;
use crate::contracts::{Contract, PlanChange};
use crate::plans::Plan;
use crate::{Result, Store};

#[derive(Debug, Serialize)]
pub struct ClientExport {
    pub format: &'static str,
    /// UTC milliseconds.
    pub exported_at: i64,
    pub client: Client,
    pub contacts: Vec<Contact>,
    pub contracts: Vec<ContractExport>,
    pub plans: Vec<Plan>,
    pub audit_log: Vec<AuditEntry>,
}

#[derive(Debug, Serialize)]
pub struct ContractExport {
    #[serde(flatten)]
    pub contract: Contract,
    pub plan_history: Vec<PlanChange>,
}

impl Store {
    pub async fn export_client(&self, slug: &str) -> Result<ClientExport> {
        let client = self.client_by_slug(slug, true).await?;
        let contacts = self.list_contacts(client.id).await?;
        let mut contracts = Vec::new();
        for contract in self.client_contracts(client.id).await? {
            let plan_history = self.plan_history(contract.id).await?;
            contracts.push(ContractExport {
                contract,
                plan_history,
            });
        }
        let used: Vec<String> = contracts
            .iter()
            .map(|c| c.contract.plan_code.clone())
            .collect();
        let plans = self
            .list_plans()
            .await?
            .into_iter()
            .filter(|p| used.contains(&p.terms.code))
            .collect();
        let mut audit_log = Vec::new();
        let mut page = 1;
        loop {
            let batch = self
                .client_audit(client.id, PageRequest::new(Some(page), Some(MAX_PAGE_SIZE)))
                .await?;
            let more = batch.has_next();
            audit_log.extend(batch.items);
            if !more {
                break;
            }
            page += 1;
        }
        Ok(ClientExport {
            format: "tend.client-export.v1",
            exported_at: crate::now_ms(),
            client,
            contacts,
            contracts,
            plans,
            audit_log,
        })
    }
}
