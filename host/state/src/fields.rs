//! Fields discovered at a target ("Refresh Fields"), per connection.
//!
//! `provisio connections refresh-fields` asks a connector with schema
//! discovery (Aquera) for the target's attributes and records them here as
//! JSON, with the time. From then on `config check`, the mapping and the
//! engine treat them as part of that connection's catalogue. Recording
//! again replaces them; a failed refresh records nothing, so the previous
//! fields stay in place.

use crate::query::vals;

use crate::error::StateError;
use crate::tx::Tx;

impl Tx<'_> {
    /// Record `fields` (JSON) for `connection`.
    pub fn set_discovered_fields(&self, connection: &str, fields: &str, now: i64) -> Result<(), StateError> {
        self.exec(
            "INSERT INTO discovered_fields (connection, fields, refreshed_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (connection) DO UPDATE SET fields = excluded.fields, refreshed_at = excluded.refreshed_at",
            vals![connection, fields, now],
        )?;
        Ok(())
    }

    /// The fields recorded for `connection` (JSON) and when.
    pub fn discovered_fields(&self, connection: &str) -> Result<Option<(String, i64)>, StateError> {
        self.query_opt("SELECT fields, refreshed_at FROM discovered_fields WHERE connection = ?1", vals![connection])?
            .map(|row| Ok((row.get(0)?, row.get(1)?)))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use crate::StateStore;

    #[test]
    fn fields_are_recorded_replaced_and_kept_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        {
            let store = StateStore::open(&path).unwrap();
            assert_eq!(store.discovered_fields("aq").unwrap(), None);
            store.set_discovered_fields("aq", "[1]", 10).unwrap();
            store.set_discovered_fields("aq", "[2]", 20).unwrap();
        }
        let store = StateStore::open_read_only(&path).unwrap();
        assert_eq!(store.discovered_fields("aq").unwrap(), Some(("[2]".to_owned(), 20)));
        assert_eq!(store.discovered_fields("other").unwrap(), None);
    }
}
