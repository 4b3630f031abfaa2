//! List responses and index-based paging (RFC 7644 §3.4.2.4).
//!
//! A list response is `{totalResults, startIndex, itemsPerPage, Resources}`
//! (2.0 with the ListResponse URN, 1.1 with the core URN; the keys are the
//! same). Servers differ, so [`parse_list_response`] is lenient: numbers may
//! be strings, `Resources` may be missing on an empty page (or spelled
//! `resources`), `itemsPerPage` is never used because some servers echo the
//! requested count instead of the number returned.
//!
//! [`collect_pages`] asks for pages with a 1-based `startIndex` and the
//! page size (or none: the server's default), advancing by the number of
//! resources actually returned, until `startIndex - 1 + len(Resources) >=
//! totalResults` or a page comes back empty. Without `totalResults` a page
//! shorter than requested is the last. A server that ignores `startIndex`
//! (the same page again) is caught rather than looped on forever.

use provisio_core::ConnectorError;
use serde_json::Value;
use std::collections::HashSet;
use std::future::Future;

use crate::error::lenient_u64;

/// One page of a list response.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListPage {
    /// `totalResults`, if the server said.
    pub total_results: Option<u64>,
    /// The resources of this page, as the server sent them.
    pub resources: Vec<Value>,
}

/// Read a list response. `Err` carries what is wrong with it.
pub fn parse_list_response(body: &Value) -> Result<ListPage, String> {
    let Some(object) = body.as_object() else {
        return Err("the answer is not a JSON object".to_owned());
    };
    let get = |name: &str| {
        object.get(name).or_else(|| object.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
    };
    let total_results = get("totalResults").and_then(lenient_u64);
    let resources = match get("Resources") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => return Err("'Resources' is not a list".to_owned()),
    };
    if total_results.is_none() && get("Resources").is_none() && get("schemas").is_none() {
        return Err("it has neither 'totalResults' nor 'Resources': not a SCIM list response".to_owned());
    }
    Ok(ListPage { total_results, resources })
}

/// The `id` of a resource as a string (some servers send numbers).
pub fn resource_id(resource: &Value) -> Option<String> {
    match resource.get("id")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Fetch every page: `fetch(start_index, count)` answers one page.
///
/// `page_size` `None` sends no `count` (the server's default or maximum
/// page). The result holds every resource of every page, in order.
pub async fn collect_pages<F, Fut>(page_size: Option<u32>, mut fetch: F) -> Result<Vec<Value>, ConnectorError>
where
    F: FnMut(u64, Option<u32>) -> Fut,
    Fut: Future<Output = Result<ListPage, ConnectorError>>,
{
    let mut start: u64 = 1;
    let mut out = Vec::new();
    let mut first_ids = HashSet::new();
    loop {
        let page = fetch(start, page_size).await?;
        let n = page.resources.len() as u64;
        if n == 0 {
            break;
        }
        if let Some(id) = page.resources.first().and_then(resource_id)
            && !first_ids.insert(id.clone())
        {
            return Err(ConnectorError::protocol(format!(
                "the target answered startIndex={start} with a page it had already sent (first id '{id}'): \
                 it seems to ignore startIndex"
            )));
        }
        out.extend(page.resources);
        let last = match page.total_results {
            Some(total) => start - 1 + n >= total,
            None => page_size.is_none_or(|c| n < u64::from(c)),
        };
        if last {
            break;
        }
        start += n;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::cell::RefCell;

    fn users(ids: std::ops::Range<u32>) -> Vec<Value> {
        ids.map(|i| json!({"id": format!("u{i}")})).collect()
    }

    #[test]
    fn lenient_list_responses() {
        let p = parse_list_response(&json!({"totalResults": "5", "itemsPerPage": "100", "Resources": [{"id": 1}]}))
            .unwrap();
        assert_eq!(p.total_results, Some(5));
        assert_eq!(resource_id(&p.resources[0]).as_deref(), Some("1"));
        let p = parse_list_response(
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0}),
        )
        .unwrap();
        assert!(p.resources.is_empty());
        assert!(parse_list_response(&json!({"id": "x"})).is_err());
        assert!(parse_list_response(&json!([1])).is_err());
    }

    #[test]
    fn pages_advance_by_what_was_returned() {
        // The server caps pages at 2 although 3 were asked for and says itemsPerPage 3.
        let all = users(0..5);
        let asked = RefCell::new(Vec::new());
        let got = futures_executor_block_on(collect_pages(Some(3), |start, count| {
            asked.borrow_mut().push((start, count));
            let from = (start - 1) as usize;
            let page = all[from.min(5)..(from + 2).min(5)].to_vec();
            async move { Ok(ListPage { total_results: Some(5), resources: page }) }
        }))
        .unwrap();
        assert_eq!(got, all);
        assert_eq!(*asked.borrow(), [(1, Some(3)), (3, Some(3)), (5, Some(3))]);
    }

    #[test]
    fn an_empty_page_or_a_short_page_without_total_ends_the_list() {
        let got = futures_executor_block_on(collect_pages(Some(2), |start, _| async move {
            Ok(ListPage { total_results: Some(100), resources: if start == 1 { users(0..2) } else { vec![] } })
        }))
        .unwrap();
        assert_eq!(got.len(), 2);
        let got = futures_executor_block_on(collect_pages(Some(2), |start, _| async move {
            Ok(ListPage { total_results: None, resources: if start == 1 { users(0..2) } else { users(2..3) } })
        }))
        .unwrap();
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn a_server_ignoring_start_index_is_caught() {
        let err = futures_executor_block_on(collect_pages(Some(2), |_, _| async move {
            Ok(ListPage { total_results: Some(10), resources: users(0..2) })
        }))
        .unwrap_err();
        assert!(err.detail.contains("ignore startIndex"), "{}", err.detail);
    }

    /// A minimal executor for the ready futures of these tests.
    fn futures_executor_block_on<F: Future>(f: F) -> F::Output {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let mut f = std::pin::pin!(f);
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }
}
