//! MappingSet through its public API: compile errors, each processing
//! option, the processing order, defaults, multi-valued fields,
//! clear_when_empty, the masked / create-only / source-attribute sets.

use std::collections::{BTreeMap, BTreeSet};

use provisio_mapping::{AttributeValue, Case, FieldMapping, Mapped, MappingError, MappingSet, ParserKind};

type Entry = BTreeMap<String, Vec<String>>;

fn entry(pairs: &[(&str, &[&str])]) -> Entry {
    pairs.iter().map(|(k, vs)| (k.to_string(), vs.iter().map(|v| v.to_string()).collect())).collect()
}

fn single_only(_: &str) -> bool {
    false
}

fn compile(fields: &[FieldMapping]) -> MappingSet {
    MappingSet::compile(fields, &|f| matches!(f, "roles" | "entitlements")).unwrap()
}

fn apply(set: &MappingSet, e: &Entry) -> Mapped {
    set.apply(&|n| e.get(n).cloned())
}

fn map1(f: FieldMapping, e: &Entry) -> Mapped {
    apply(&compile(&[f]), e)
}

fn single(m: &Mapped, field: &str) -> Option<String> {
    match m.values.get(field) {
        Some(AttributeValue::Single(s)) => Some(s.clone()),
        Some(other) => panic!("{field} is not single: {other:?}"),
        None => None,
    }
}

fn errors(fields: &[FieldMapping]) -> Vec<MappingError> {
    MappingSet::compile(fields, &single_only).unwrap_err()
}

#[test]
fn first_non_empty_attribute_wins() {
    let f = FieldMapping::new("displayName", &["displayName", "cn"]);
    let m = map1(f.clone(), &entry(&[("displayName", &[""]), ("cn", &["Ada", "Second"])]));
    assert_eq!(single(&m, "displayName").as_deref(), Some("Ada"));
    let m = map1(f, &entry(&[("displayName", &["Shown"]), ("cn", &["Ada"])]));
    assert_eq!(single(&m, "displayName").as_deref(), Some("Shown"));
    assert!(m.empty.is_empty() && m.clear.is_empty() && m.warnings.is_empty());
}

#[test]
fn trim_and_case() {
    let mut f = FieldMapping::new("userName", &["uid"]);
    let e = entry(&[("uid", &["  Ada.Lovelace  "])]);
    assert_eq!(single(&map1(f.clone(), &e), "userName").as_deref(), Some("  Ada.Lovelace  "));
    f.trim = true;
    assert_eq!(single(&map1(f.clone(), &e), "userName").as_deref(), Some("Ada.Lovelace"));
    f.case = Case::Lower;
    assert_eq!(single(&map1(f.clone(), &e), "userName").as_deref(), Some("ada.lovelace"));
    f.case = Case::Upper;
    assert_eq!(single(&map1(f.clone(), &e), "userName").as_deref(), Some("ADA.LOVELACE"));
    let e = entry(&[("uid", &["straße é"])]);
    assert_eq!(single(&map1(f, &e), "userName").as_deref(), Some("STRASSE É"));
}

#[test]
fn parsers() {
    let mut f = FieldMapping::new("manager", &["manager"]);
    f.parser = ParserKind::ExtractCnFromDn;
    let m = map1(f.clone(), &entry(&[("manager", &[r"CN=Doe\, Jane,OU=People,DC=example,DC=org"])]));
    assert_eq!(single(&m, "manager").as_deref(), Some("Doe, Jane"));
    assert!(m.warnings.is_empty());
    // Not a CN DN: unchanged, with a warning that does not show the value.
    let m = map1(f, &entry(&[("manager", &["uid=jdoe,ou=People"])]));
    assert_eq!(single(&m, "manager").as_deref(), Some("uid=jdoe,ou=People"));
    assert_eq!(m.warnings.len(), 1);
    assert!(m.warnings[0].contains("'manager'") && !m.warnings[0].contains("jdoe"), "{:?}", m.warnings);

    let mut f = FieldMapping::new("userName", &["mail"]);
    f.parser = ParserKind::ExtractUsernameFromEmail;
    let m = map1(f.clone(), &entry(&[("mail", &["ada@lab@example.org"])]));
    assert_eq!(single(&m, "userName").as_deref(), Some("ada@lab"));
    let m = map1(f, &entry(&[("mail", &["ada"])]));
    assert_eq!(single(&m, "userName").as_deref(), Some("ada"));
    assert_eq!(m.warnings.len(), 1);
}

#[test]
fn processing_order_is_parser_trim_case_then_default() {
    // Parser before trim: the DN's CN keeps inner spaces, trim then
    // removes the escaped outer ones, and case comes last.
    let mut f = FieldMapping::new("displayName", &["dn"]);
    f.parser = ParserKind::ExtractCnFromDn;
    f.trim = true;
    f.case = Case::Upper;
    let m = map1(f.clone(), &entry(&[("dn", &[r"cn=\ ada lovelace\ ,dc=x"])]));
    assert_eq!(single(&m, "displayName").as_deref(), Some("ADA LOVELACE"));
    // Trim before the emptiness check: a blank value falls through to the
    // next value, then to the default, which is used as written.
    f.attributes = vec!["blank".into(), "dn".into()];
    f.default = Some("  Unknown ".into());
    let m = map1(f.clone(), &entry(&[("blank", &["   "]), ("dn", &["cn=x,dc=y"])]));
    assert_eq!(single(&m, "displayName").as_deref(), Some("X"));
    let m = map1(f.clone(), &entry(&[("blank", &["   "])]));
    assert_eq!(single(&m, "displayName").as_deref(), Some("  Unknown "));
    // The parser runs before trim: "  @x" has its username part "  ", which
    // trims to nothing, so the default applies.
    f.parser = ParserKind::ExtractUsernameFromEmail;
    let m = map1(f, &entry(&[("dn", &["  @example.org"])]));
    assert_eq!(single(&m, "displayName").as_deref(), Some("  Unknown "));
}

#[test]
fn defaults_and_empty() {
    let mut f = FieldMapping::new("title", &["title"]);
    f.default = Some("Staff".into());
    assert_eq!(single(&map1(f.clone(), &entry(&[])), "title").as_deref(), Some("Staff"));
    assert_eq!(single(&map1(f.clone(), &entry(&[("title", &[])])), "title").as_deref(), Some("Staff"));
    assert_eq!(single(&map1(f, &entry(&[("title", &["CTO"])])), "title").as_deref(), Some("CTO"));
    // A constant field: default only.
    let mut c = FieldMapping::new("locale", &[]);
    c.default = Some("en-GB".into());
    assert_eq!(single(&map1(c, &entry(&[])), "locale").as_deref(), Some("en-GB"));
    // No value and no default.
    let m = map1(FieldMapping::new("title", &["title"]), &entry(&[]));
    assert!(m.values.is_empty());
    assert_eq!(m.empty, vec!["title"]);
    assert!(m.clear.is_empty(), "leave the target value alone by default");
}

#[test]
fn clear_when_empty() {
    let fields = [
        FieldMapping { clear_when_empty: true, ..FieldMapping::new("title", &["title"]) },
        FieldMapping::new("department", &["department"]),
        FieldMapping { clear_when_empty: true, ..FieldMapping::new("phone", &["telephoneNumber"]) },
    ];
    let set = compile(&fields);
    let m = apply(&set, &entry(&[("telephoneNumber", &["+44 1"])]));
    assert_eq!(m.empty, vec!["title", "department"]);
    assert_eq!(m.clear, vec!["title"]);
    assert_eq!(single(&m, "phone").as_deref(), Some("+44 1"));
}

#[test]
fn multi_valued_fields_take_every_value() {
    let mut f = FieldMapping::new("roles", &["memberOf", "extraRoles"]);
    f.parser = ParserKind::ExtractCnFromDn;
    f.case = Case::Lower;
    let e = entry(&[
        ("memberOf", &["cn=Admins,ou=Groups,dc=x", "cn=Staff,ou=Groups,dc=x", ""]),
        ("extraRoles", &["ADMINS", "auditor", "staff"]),
    ]);
    let m = map1(f.clone(), &e);
    assert_eq!(
        m.values.get("roles"),
        Some(&AttributeValue::Multi(vec!["admins".into(), "staff".into(), "auditor".into()])),
        "in order, de-duplicated after processing"
    );
    // Default for a list field: a one-entry list.
    f.default = Some("user".into());
    assert_eq!(map1(f.clone(), &entry(&[])).values.get("roles"), Some(&AttributeValue::Multi(vec!["user".into()])));
    // An expression gives a one-entry list; a multi-valued source reference
    // yields its first value.
    let x = FieldMapping { expression: Some("'role-' + ${memberOf}".into()), ..FieldMapping::new("entitlements", &[]) };
    let m = map1(x, &entry(&[("memberOf", &["a", "b"])]));
    assert_eq!(m.values.get("entitlements"), Some(&AttributeValue::Multi(vec!["role-a".into()])));
    // A single-valued target fed by a multi-valued attribute: first value.
    let s = map1(FieldMapping::new("title", &["memberOf"]), &e);
    assert_eq!(single(&s, "title").as_deref(), Some("cn=Admins,ou=Groups,dc=x"));
}

#[test]
fn expressions_in_mappings() {
    let mut f = FieldMapping::new("displayName", &[]);
    f.expression = Some("${givenName} + ' ' + ${sn} ?? ${cn}".into());
    f.case = Case::Upper;
    f.default = Some("nobody".into());
    let set = compile(std::slice::from_ref(&f));
    let m = apply(&set, &entry(&[("givenName", &["Ada"]), ("sn", &["Lovelace"])]));
    assert_eq!(single(&m, "displayName").as_deref(), Some("ADA LOVELACE"));
    let m = apply(&set, &entry(&[("givenName", &["Ada"]), ("cn", &["A. L."])]));
    assert_eq!(single(&m, "displayName").as_deref(), Some("A. L."));
    let m = apply(&set, &entry(&[]));
    assert_eq!(single(&m, "displayName").as_deref(), Some("nobody"));
    assert!(m.warnings.is_empty(), "an absent result is not a failure");
    assert_eq!(set.source_attributes(), ["cn", "givenName", "sn"].iter().map(|s| s.to_string()).collect());
}

#[test]
fn run_time_expression_failure_falls_back_to_the_default() {
    let f = FieldMapping {
        expression: Some("${photo} + ${photo}".into()),
        default: Some("none".into()),
        masked: true,
        ..FieldMapping::new("secret", &[])
    };
    let big = "s3cr3t".repeat(100_000);
    let m = map1(f.clone(), &entry(&[("photo", &[big.as_str()])]));
    assert_eq!(single(&m, "secret").as_deref(), Some("none"));
    assert_eq!(m.warnings.len(), 1);
    assert!(m.warnings[0].starts_with("mapping for 'secret': expression failed at run time"), "{}", m.warnings[0]);
    assert!(!m.warnings[0].contains("s3cr3t"));
    let m = map1(FieldMapping { default: None, ..f }, &entry(&[("photo", &[big.as_str()])]));
    assert_eq!(m.empty, vec!["secret"]);
    assert!(m.warnings[0].contains("no default"));
}

#[test]
fn compile_reports_every_problem_at_once() {
    let fields = [
        FieldMapping::new("userName", &["uid"]),
        FieldMapping {
            expression: Some("substring(${displayName}, 0".into()),
            ..FieldMapping::new("displayName", &[])
        },
        FieldMapping::new("userName", &["mail"]),
        FieldMapping::new("nothing", &[]),
        FieldMapping { expression: Some("${a}".into()), ..FieldMapping::new("both", &["a"]) },
        FieldMapping { default: Some(String::new()), ..FieldMapping::new("emptyDefault", &["x"]) },
        FieldMapping { create_only: true, clear_when_empty: true, ..FieldMapping::new("password", &["pw"]) },
        FieldMapping::new("blankAttr", &[" "]),
        FieldMapping::new("", &["x"]),
        FieldMapping { expression: Some("frob(${a})".into()), ..FieldMapping::new("fn", &[]) },
    ];
    let errs = errors(&fields);
    let shown: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert_eq!(errs.len(), 9, "{shown:#?}");
    assert_eq!(
        shown[0],
        "mapping for 'displayName': expression column 28: expected ',' or ')' after the arguments of substring, found the end of the expression"
    );
    assert_eq!(errs[0].column, Some(28));
    assert!(shown[1].starts_with("mapping for 'userName': the field is mapped more than once (mappings #1 and #3)"));
    assert!(shown[2].contains("'nothing'") && shown[2].contains("no attributes, expression or default"));
    assert!(shown[3].contains("'both'") && shown[3].contains("not both"));
    assert!(shown[4].contains("'emptyDefault'"));
    assert!(shown[5].contains("'password'") && shown[5].contains("clear_when_empty"));
    assert!(shown[6].contains("'blankAttr'") && shown[6].contains("attribute name is empty"));
    assert!(shown[7].contains("empty field code"));
    assert_eq!(
        shown[8],
        "mapping for 'fn': expression column 1: unknown function 'frob'; the functions are lower, upper, trim, substring"
    );
    assert!(errs.iter().filter(|e| e.column.is_none()).count() == 7);
}

#[test]
fn field_sets() {
    let fields = [
        FieldMapping::new("userName", &["uid"]),
        FieldMapping { create_only: true, masked: true, ..FieldMapping::new("password", &["userPassword"]) },
        FieldMapping { masked: true, ..FieldMapping::new("ssn", &["employeeNumber", "uid"]) },
        FieldMapping { create_only: true, ..FieldMapping::new("externalId", &["entryUUID"]) },
        FieldMapping { expression: Some("lower(${mail}) ?? ${ mail2 }".into()), ..FieldMapping::new("email", &[]) },
    ];
    let set = compile(&fields);
    assert_eq!(set.fields().collect::<Vec<_>>(), vec!["userName", "password", "ssn", "externalId", "email"]);
    let s = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(set.masked_fields(), s(&["password", "ssn"]));
    assert_eq!(set.create_only_fields(), s(&["externalId", "password"]));
    assert_eq!(set.source_attributes(), s(&["employeeNumber", "entryUUID", "mail", "mail2", "uid", "userPassword"]));
    assert_eq!(set.mappings().count(), 5);
    // Create-only fields are mapped too; the engine drops them on update.
    let m = apply(&set, &entry(&[("uid", &["ada"]), ("userPassword", &["pw"]), ("entryUUID", &["u-1"])]));
    assert_eq!(single(&m, "password").as_deref(), Some("pw"));
    assert_eq!(single(&m, "externalId").as_deref(), Some("u-1"));
    assert_eq!(single(&m, "ssn").as_deref(), Some("ada"));
    assert_eq!(m.empty, vec!["email"]);
}

#[test]
fn debug_output_never_shows_values() {
    let fields = [FieldMapping { masked: true, ..FieldMapping::new("password", &["userPassword"]) }];
    let set = compile(&fields);
    let m = apply(&set, &entry(&[("userPassword", &["hunter2"])]));
    let d = format!("{m:?} {set:?}");
    assert!(!d.contains("hunter2"), "{d}");
    assert!(d.contains("password"));
    let r = m.redacted(&set.masked_fields());
    assert_eq!(r.get("password"), Some(&AttributeValue::Single("******".into())));
}

#[test]
fn redacted_replaces_only_masked_fields() {
    let mut m = Mapped::default();
    m.values.insert("userName".into(), "ada".into());
    m.values.insert("password".into(), "hunter2".into());
    m.values.insert("secrets".into(), AttributeValue::Multi(vec!["a".into(), "b".into(), "c".into()]));
    let masked: BTreeSet<String> = ["password".to_string(), "secrets".to_string()].into();
    let r = m.redacted(&masked);
    assert_eq!(r.get("userName"), Some(&AttributeValue::Single("ada".into())));
    assert_eq!(r.get("password"), Some(&AttributeValue::Single("******".into())));
    assert_eq!(r.get("secrets"), Some(&AttributeValue::Multi(vec!["******".into()])));
    assert_eq!(m.values.get("password"), Some(&AttributeValue::Single("hunter2".into())), "self is unchanged");
}
