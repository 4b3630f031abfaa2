//! `provisio connectors list` and `provisio connectors show ID`: what was
//! loaded, as tables or JSON.

use clap::Subcommand;
use provisio_core::manifest::{Capability, Manifest, OptionConstraint, ProvisioningOption, SettingSpec};
use provisio_runtime::loader::{LoadReport, LoadedConnector};

use super::output::{out, print_json, table, yes};
use super::{CliError, GlobalArgs, load_connectors};

#[derive(Debug, Subcommand)]
pub enum ConnectorsCommand {
    /// One line per loaded connector: id, name, version, remove-user
    /// actions, capabilities and the library it came from. Refused
    /// libraries are named on stderr.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Exit with status 1 if any library was refused.
        #[arg(long)]
        strict: bool,
    },
    /// A connector's target settings form, attribute catalogue,
    /// provisioning-option defaults and constraints, and remove-user
    /// semantics.
    Show {
        /// The connector id, as in `connectors list`.
        id: String,
        /// Print the manifest as JSON (with the library path as "file").
        #[arg(long)]
        json: bool,
    },
}

pub fn run(global: &GlobalArgs, cmd: &ConnectorsCommand) -> Result<(), CliError> {
    let report = load_connectors(global)?;
    match cmd {
        ConnectorsCommand::List { json, strict } => {
            if *json {
                print_json(&list_json(&report))?;
            } else {
                print_list(&report)?;
            }
            if *strict && !report.rejected.is_empty() {
                return Err(CliError::User(format!(
                    "{} connector librar{} refused (see above)",
                    report.rejected.len(),
                    if report.rejected.len() == 1 { "y was" } else { "ies were" }
                )));
            }
            Ok(())
        }
        ConnectorsCommand::Show { id, json } => {
            let connector = find(&report, id)?;
            if *json {
                let mut value = serde_json::to_value(&connector.manifest).unwrap_or_default();
                value["file"] = connector.path.display().to_string().into();
                print_json(&value)?;
            } else {
                print_show(connector)?;
            }
            Ok(())
        }
    }
}

fn scanned(report: &LoadReport) -> String {
    report.scanned.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// The connector `id`, or an error listing what was loaded and where
/// provisio looked.
pub fn find<'a>(report: &'a LoadReport, id: &str) -> Result<&'a LoadedConnector, CliError> {
    report.get(id).ok_or_else(|| {
        let loaded: Vec<&str> = report.connectors.keys().map(String::as_str).collect();
        CliError::NotFound(format!(
            "no connector '{id}' was loaded (loaded: {}; searched: {}). Build it, or point --connector-dir at the directory that holds it.",
            if loaded.is_empty() { "none".to_owned() } else { loaded.join(", ") },
            if report.scanned.is_empty() { "no existing directory".to_owned() } else { scanned(report) }
        ))
    })
}

fn remove_user_cell(m: &Manifest) -> String {
    m.remove_user
        .supported
        .iter()
        .map(|a| if *a == m.remove_user.default { format!("{a} (default)") } else { a.to_string() })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Capabilities grouped as "users: create, update; groups: find".
fn capabilities_cell(m: &Manifest) -> String {
    if m.capabilities.is_empty() {
        return "none yet".to_owned();
    }
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for c in &m.capabilities {
        let name = c.as_str();
        let (group, op) = match name.split_once('_') {
            Some(("user", op)) => ("users", op),
            Some(("group", op)) => ("groups", op),
            _ => ("", name),
        };
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, ops)) => ops.push(op),
            None => groups.push((group, vec![op])),
        }
    }
    groups
        .into_iter()
        .map(|(g, ops)| if g.is_empty() { ops.join(", ") } else { format!("{g}: {}", ops.join(", ")) })
        .collect::<Vec<_>>()
        .join("; ")
}

fn list_json(report: &LoadReport) -> serde_json::Value {
    let connectors: Vec<serde_json::Value> = report
        .connectors
        .values()
        .map(|c| {
            let m = &c.manifest;
            serde_json::json!({
                "id": m.id,
                "display_name": m.display_name,
                "version": m.version,
                "sdk_version": m.sdk_version,
                "protocol": m.protocol.to_string(),
                "remove_user": m.remove_user,
                "capabilities": m.capabilities,
                "file": c.path.display().to_string(),
            })
        })
        .collect();
    let rejected: Vec<serde_json::Value> = report
        .rejected
        .iter()
        .map(|r| serde_json::json!({ "file": r.path.display().to_string(), "reason": r.reason.to_string() }))
        .collect();
    serde_json::json!({ "connectors": connectors, "rejected": rejected })
}

fn print_list(report: &LoadReport) -> Result<(), CliError> {
    if report.connectors.is_empty() {
        out!("No connectors loaded (searched: {}).", scanned(report))?;
        return Ok(());
    }
    out!("Connectors loaded from {}", scanned(report))?;
    let mut t = table(["ID", "NAME", "VERSION", "REMOVE USER", "CAPABILITIES", "FILE"]);
    for c in report.connectors.values() {
        let m = &c.manifest;
        t.add_row([
            m.id.clone(),
            m.display_name.clone(),
            m.version.clone(),
            remove_user_cell(m),
            capabilities_cell(m),
            c.path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
        ]);
    }
    out!("{t}")?;
    Ok(())
}

fn default_cell(s: &SettingSpec) -> String {
    match &s.default {
        None => String::new(),
        Some(serde_json::Value::String(v)) => s
            .allowed
            .iter()
            .find(|a| &a.value == v)
            .map(|a| if a.label == *v { v.clone() } else { format!("{v} ({})", a.label) })
            .unwrap_or_else(|| v.clone()),
        Some(v) => v.to_string(),
    }
}

fn required_cell(s: &SettingSpec) -> String {
    match (&s.required, &s.required_when) {
        (true, _) => "yes".to_owned(),
        (false, Some(c)) => format!(
            "when {} = {}",
            c.setting,
            c.equals.as_str().map(str::to_owned).unwrap_or_else(|| c.equals.to_string())
        ),
        _ => String::new(),
    }
}

fn constraint_cell(c: &OptionConstraint) -> String {
    match c {
        OptionConstraint::Free => String::new(),
        OptionConstraint::Fixed { value, reason } => {
            format!("must be {}: {reason}", if *value { "selected" } else { "cleared" })
        }
        OptionConstraint::Requires { option, reason } => format!("needs {}: {reason}", option.label()),
        OptionConstraint::CreatesActive { reason } => {
            format!("not supported, disabled users are created active: {reason}")
        }
    }
}

fn print_show(c: &LoadedConnector) -> Result<(), CliError> {
    let m = &c.manifest;
    out!("{} ({}) {}", m.display_name, m.id, m.version)?;
    if !m.description.is_empty() {
        out!("{}", m.description)?;
    }
    out!("library: {}", c.path.display())?;
    out!("built with SDK {} (protocol {})\n", m.sdk_version, m.protocol)?;

    out!("Target settings")?;
    let mut t = table(["SETTING", "LABEL", "KIND", "REQUIRED", "DEFAULT", "ALLOWED", "SECRET"]);
    for s in &m.settings {
        let allowed = s.allowed.iter().map(|a| a.value.as_str()).collect::<Vec<_>>().join(", ");
        let name = match &s.group {
            Some(g) => format!("{}\n({g})", s.name),
            None => s.name.clone(),
        };
        t.add_row([
            name,
            s.label.clone(),
            s.kind.as_str().to_owned(),
            required_cell(s),
            default_cell(s),
            allowed,
            yes(s.secret).to_owned(),
        ]);
    }
    out!("{t}\n")?;

    out!("Provisioning options")?;
    let mut t = table(["OPTION", "DEFAULT", "CONSTRAINT"]);
    for o in ProvisioningOption::ALL {
        let spec = m.options.get(o);
        t.add_row([
            o.label().to_owned(),
            if spec.default { "selected" } else { "cleared" }.to_owned(),
            constraint_cell(&spec.constraint),
        ]);
    }
    t.add_row([
        "Remove User Action".to_owned(),
        m.remove_user.default.to_string(),
        format!("supported: {}", remove_user_cell(m)),
    ]);
    out!("{t}")?;
    if !m.remove_user.notes.is_empty() {
        out!("Remove user: {}", m.remove_user.notes)?;
    }
    out!()?;

    out!("Supported attributes ({})", m.attributes.len())?;
    let mut t = table(["FIELD", "TARGET", "REQUIRED", "MULTI", "MUTABILITY", "NOTES"]);
    for a in &m.attributes {
        let code =
            if a.aliases.is_empty() { a.code.clone() } else { format!("{} (also {})", a.code, a.aliases.join(", ")) };
        t.add_row([
            code,
            a.target.clone(),
            yes(a.required).to_owned(),
            yes(a.multi_valued).to_owned(),
            a.mutability.as_str().to_owned(),
            a.notes.clone(),
        ]);
    }
    out!("{t}\n")?;

    let caps: Vec<&str> = Capability::ALL.iter().filter(|c| m.supports(**c)).map(|c| c.as_str()).collect();
    out!(
        "Capabilities: {}",
        if caps.is_empty() { "none yet (every operation answers `unsupported`)".to_owned() } else { caps.join(", ") }
    )?;
    if !m.notes.is_empty() {
        out!("\nNotes")?;
        for n in &m.notes {
            out!("  - {n}")?;
        }
    }
    Ok(())
}
