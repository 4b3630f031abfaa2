//! Placeholder: the aquera connector's manifest arrives with its own commit.
use provisio_core::prelude::*;
pub struct Placeholder;
impl Connector for Placeholder {
    fn manifest() -> Manifest { let mut m = provisio_core::testing::minimal_manifest("aquera"); m.version = env!("CARGO_PKG_VERSION").into(); m }
    fn open(_c: ConnectorConfig, _h: Host) -> Result<Self, ConnectorError> { Ok(Placeholder) }
}
provisio_core::register_connector!(Placeholder);
