//! An Aquera application's SCIM 2.0 endpoint (spec b.4), emulated in front
//! of a scim2-server that serves Aquera's schema itself.
//!
//! The backing server is started with `--schema` and `--resource-type`
//! files: RFC 7643's schemas plus the custom extension [`IANUSER_URN`]
//! (`officeLocation`, optional; `badgeNumber`, **required**; `costCenter`,
//! optional; `createdBy`, read-only), listed as an extension of the User
//! resource type. So the real server validates every custom attribute: an
//! unknown one is a 400, a user with the extension but no `badgeNumber`
//! is a 400.
//!
//! The SCIM URL is `http://127.0.0.1:PORT/scim/<app>/v2`. The credentials
//! are those of [`AqueraAuth`]: a bearer token, Basic credentials, or both
//! (either is accepted). Everything is forwarded except:
//! wrong credentials (401); `PATCH /Users/{id}` (501: users are replaced
//! with PUT); with [`AqueraEmulator::refuse_group_creation`], `POST /Groups`
//! (403: the application behind Aquera does not allow it); with
//! [`AqueraEmulator::serve_broken_schema`], `/Schemas` answers a schema that
//! is not valid RFC 7643 (as Aquera sometimes does for some services).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use serde_json::{Value, json};

use super::Auth;
use super::front::{Front, Request, Response, Rules, Upstream};
use crate::scim_peer::{ScimPeer, Tenant, random_token, venv_dir};

/// The custom extension's URN.
pub const IANUSER_URN: &str = "urn:ietf:params:scim:schemas:extension:IANUser:2.0:User";

/// How the emulated application authenticates.
pub type AqueraAuth = Auth;

/// A running Aquera emulator.
pub struct AqueraEmulator {
    pub front: Front,
    pub tenant: Tenant,
    pub auth: Auth,
    refuse_groups: Arc<AtomicBool>,
    broken_schema: Arc<AtomicBool>,
}

fn attr(name: &str, required: bool, mutability: &str) -> Value {
    json!({"name": name, "type": "string", "multiValued": false, "required": required, "caseExact": false,
        "mutability": mutability, "returned": "default", "uniqueness": "none", "description": format!("Aquera custom attribute {name}")})
}

/// The default schema files of scim2-server, from the installed package.
fn resource_file(name: &str) -> PathBuf {
    let lib = venv_dir().join("lib");
    let entries = std::fs::read_dir(&lib)
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/peers/install-scim2-server", lib.display()));
    for e in entries.flatten() {
        let p = e.path().join("site-packages/scim2_server/resources").join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("scim2-server's {name} is not under {}; run scripts/peers/install-scim2-server", lib.display())
}

/// One scim2-server for every Aquera emulator of the test binary, serving
/// the IANUser schema; each emulator takes its own tenant.
fn peer() -> &'static ScimPeer {
    static PEER: OnceLock<(ScimPeer, tempfile::TempDir)> = OnceLock::new();
    let (peer, _) = PEER.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let read = |name: &str| -> Value {
            serde_json::from_str(&std::fs::read_to_string(resource_file(name)).expect("read")).expect("JSON")
        };
        let mut schemas = read("default-schemas.json");
        schemas.as_array_mut().expect("a list").push(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": IANUSER_URN, "name": "IANUser", "description": "Aquera custom attributes",
            "attributes": [
                attr("officeLocation", false, "readWrite"),
                attr("badgeNumber", true, "readWrite"),
                attr("costCenter", false, "readWrite"),
                attr("createdBy", false, "readOnly"),
            ],
            "meta": {"resourceType": "Schema", "location": format!("/v2/Schemas/{IANUSER_URN}")}
        }));
        let mut types = read("default-resource-types.json");
        for t in types.as_array_mut().expect("a list") {
            if t["id"] == "User" {
                t["schemaExtensions"]
                    .as_array_mut()
                    .expect("a list")
                    .push(json!({"schema": IANUSER_URN, "required": false}));
            }
        }
        let (s, t) = (dir.path().join("schemas.json"), dir.path().join("resource-types.json"));
        std::fs::write(&s, schemas.to_string()).expect("write");
        std::fs::write(&t, types.to_string()).expect("write");
        let peer = ScimPeer::builder()
            .arg("--schema")
            .arg(s.to_str().expect("utf-8"))
            .arg("--resource-type")
            .arg(t.to_str().expect("utf-8"))
            .start();
        (peer, dir)
    });
    peer.assert_alive();
    peer
}

impl AqueraEmulator {
    /// An application taking a random bearer token.
    pub fn start() -> AqueraEmulator {
        Self::start_with(Auth::Bearer(format!("aq-{}", random_token())))
    }

    pub fn start_with(auth: Auth) -> AqueraEmulator {
        let tenant = peer().unique_tenant("aquera");
        let refuse_groups = Arc::new(AtomicBool::new(false));
        let broken_schema = Arc::new(AtomicBool::new(false));
        let rules = AqueraRules {
            auth: auth.clone(),
            refuse_groups: refuse_groups.clone(),
            broken_schema: broken_schema.clone(),
        };
        let app = &random_token()[..10];
        let front = Front::start(&format!("/scim/{app}/v2"), rules, &tenant.base_url, &tenant.token);
        AqueraEmulator { front, tenant, auth, refuse_groups, broken_schema }
    }

    /// The application's SCIM URL (Aquera's "Copy this URL").
    pub fn scim_url(&self) -> String {
        self.front.url()
    }

    /// `POST /Groups` is refused from now on (or again accepted).
    pub fn refuse_group_creation(&self, refuse: bool) {
        self.refuse_groups.store(refuse, Ordering::SeqCst);
    }

    /// `/Schemas` answers an invalid schema from now on (or the real one).
    pub fn serve_broken_schema(&self, broken: bool) {
        self.broken_schema.store(broken, Ordering::SeqCst);
    }
}

struct AqueraRules {
    auth: Auth,
    refuse_groups: Arc<AtomicBool>,
    broken_schema: Arc<AtomicBool>,
}

/// The real schema with the custom extension spoiled: an attribute with no
/// name and one with a type RFC 7643 does not have.
fn broken(mut r: Response) -> Response {
    if let Some(mut body) = r.json_body() {
        for s in body["Resources"].as_array_mut().into_iter().flatten() {
            if s["id"] == IANUSER_URN {
                s["attributes"] = json!([{"type": "string"}, {"name": "officeLocation", "type": "text"}]);
            }
        }
        r.set_json(&body);
    }
    r
}

impl Rules for AqueraRules {
    fn handle(&self, req: &Request, up: &Upstream) -> Result<Response, Response> {
        self.auth.check(req)?;
        let segments = req.segments();
        match (req.method.as_str(), segments.as_slice()) {
            ("PATCH", ["Users", ..]) => {
                Err(Response::scim_error(501, None, "users are replaced with PUT; PATCH on users is not supported"))
            }
            ("POST", ["Groups"]) if self.refuse_groups.load(Ordering::SeqCst) => Err(Response::scim_error(
                403,
                None,
                "this application does not allow creating groups; create them in the application",
            )),
            ("GET", ["Schemas"]) if self.broken_schema.load(Ordering::SeqCst) => Ok(broken(up.forward(req))),
            _ => Ok(up.forward(req)),
        }
    }
}
