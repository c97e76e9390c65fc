//! Fleet indexing connectivity: read only where the account indexes connectivity
//! (GetIndexingConfiguration says `thingConnectivityIndexingMode: STATUS`), then SearchIndex
//! over `AWS_Things`, 100 things a page.

use aws_sdk_iot::Client;
use aws_sdk_iot::operation::get_indexing_configuration::GetIndexingConfigurationOutput;
use aws_sdk_iot::types::ThingConnectivityIndexingMode;
use tokio::sync::mpsc;

use super::budget::Outages;
use super::snapshot::{emit, finish};
use crate::backend::error::CallFailure;
use crate::backend::records::ConnectivityRecord;
use crate::backend::update::{BackendUpdate, Source, SourceState};

/// The query that matches every indexed thing.
pub const ALL_THINGS_QUERY: &str = "thingName:*";
/// Upper bound on SearchIndex pages (100 things each): 10 million things.
const MAX_PAGES: usize = 100_000;

/// Loads connectivity from fleet indexing and reports the source. GetIndexingConfiguration,
/// the first call, goes through `first` (the small retry budget); a definite no is noted in
/// `outages`.
pub(super) async fn load_connectivity(
    first: &Client,
    iot: &Client,
    outages: &Outages,
    updates: &mpsc::Sender<BackendUpdate>,
) -> SourceState {
    let config = match first.get_indexing_configuration().send().await {
        Ok(config) => config,
        Err(e) => {
            let failure = CallFailure::from_sdk("iot:GetIndexingConfiguration", &e);
            outages.first_call_failed(Source::FleetIndexing, &failure);
            let state = SourceState::Unavailable {
                reason: failure.to_string(),
            };
            finish(updates, Source::FleetIndexing, state.clone()).await;
            return state;
        }
    };
    let state = match read(iot, &config, updates).await {
        Ok(items) => SourceState::Loaded { items },
        Err(reason) => SourceState::Unavailable { reason },
    };
    finish(updates, Source::FleetIndexing, state.clone()).await;
    state
}

async fn read(
    iot: &Client,
    config: &GetIndexingConfigurationOutput,
    updates: &mpsc::Sender<BackendUpdate>,
) -> Result<usize, String> {
    let mode = config
        .thing_indexing_configuration()
        .and_then(|c| c.thing_connectivity_indexing_mode());
    if mode != Some(&ThingConnectivityIndexingMode::Status) {
        return Err(
            "fleet indexing of connectivity is not enabled (thingConnectivityIndexingMode \
                    is not STATUS); connection state comes from live presence events only"
                .into(),
        );
    }

    let mut next_token: Option<String> = None;
    let mut count = 0;
    for _ in 0..MAX_PAGES {
        let out = iot
            .search_index()
            .index_name("AWS_Things")
            .query_string(ALL_THINGS_QUERY)
            .max_results(100)
            .set_next_token(next_token.take())
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:SearchIndex", &e).to_string())?;
        let page: Vec<ConnectivityRecord> = out
            .things()
            .iter()
            .filter_map(|doc| {
                let connectivity = doc.connectivity()?;
                Some(ConnectivityRecord {
                    thing: doc.thing_name()?.to_owned(),
                    connected: connectivity.connected().unwrap_or(false),
                    since: connectivity.timestamp().map(|ms| ms / 1000),
                    disconnect_reason: connectivity.disconnect_reason().map(str::to_owned),
                })
            })
            .collect();
        count += page.len();
        if !page.is_empty() && !emit(updates, BackendUpdate::Connectivity(page)).await {
            break;
        }
        match out.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
            _ => break,
        }
    }
    Ok(count)
}
