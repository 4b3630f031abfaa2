//! The SCIM Provisioner's attribute catalogue (spec b.1.3) as [`AttributeSpec`]s.
//!
//! This is the "Field Name" list PingFederate's SCIM Provisioner offers on the
//! attribute-mapping page, each field with the SCIM 2.0 path it is written to.
//! The generic `scim` connector publishes all of it; the SCIM-based targets
//! (Contentful, Code42, Aquera) pick the fields they support with [`pick`] or
//! [`without`] and adjust required flags, mutability and notes to their
//! target's documented behaviour.
//!
//! Conventions of the target paths:
//! - a plain name (`title`) or a dotted sub-attribute (`name.givenName`) of
//!   the core User schema;
//! - one value per type of a multi-valued attribute, as a SCIM filter path:
//!   `emails[type eq "work"].value` (the connector writes one value per type);
//! - a list attribute as `entitlements[].value` (one entry per source value);
//! - enterprise-extension fields as the full URN path
//!   ([`ENTERPRISE_USER`]`:department`, `...:manager.value`).
//!
//! The paths are SCIM 2.0; the SCIM 1.1 dialect translates them on the wire.

use provisio_core::manifest::{AttributeSpec, Mutability};

/// Schema URN of the RFC 7643 enterprise User extension.
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The address types of the catalogue: field prefix and SCIM `type` alike.
const ADDRESS_TYPES: [&str; 3] = ["work", "home", "other"];

/// Address sub-fields as (field suffix, SCIM sub-attribute, notes).
const ADDRESS_PARTS: [(&str, &str, &str); 6] = [
    ("StreetAddress", "streetAddress", ""),
    ("City", "locality", ""),
    ("State", "region", ""),
    ("PostalCode", "postalCode", ""),
    ("Country", "country", "ISO 3166-1 alpha-2 country code, e.g. US."),
    ("FormattedAddress", "formatted", "The full mailing address, formatted for display."),
];

const PHONE_TYPES: [&str; 6] = ["work", "mobile", "pager", "fax", "home", "other"];
const IM_TYPES: [&str; 8] = ["qq", "skype", "gtalk", "aim", "icq", "yahoo", "msn", "xmpp"];
const ENTERPRISE_FIELDS: [&str; 5] = ["employeeNumber", "costCenter", "organization", "division", "department"];

/// Path of a typed value of a multi-valued attribute: `emails[type eq "work"].value`.
pub fn typed_path(attribute: &str, scim_type: &str, sub: &str) -> String {
    format!("{attribute}[type eq \"{scim_type}\"].{sub}")
}

/// Path of an enterprise-extension field: `urn:...:enterprise:2.0:User:department`.
pub fn enterprise_path(field: &str) -> String {
    format!("{ENTERPRISE_USER}:{field}")
}

fn simple(code: &str, target: &str, notes: &str) -> AttributeSpec {
    AttributeSpec::new(code, target).notes(notes)
}

/// The whole SCIM Provisioner catalogue of spec b.1.3, in the spec's order.
///
/// Only `userName` is required. `entitlements`, `roles` and `certificates`
/// are lists: each value of the mapped source attribute becomes one entry.
/// `password` is write-only and should be mapped with *Create Only*.
pub fn scim_user_attributes() -> Vec<AttributeSpec> {
    let mut out = vec![
        simple(
            "userName",
            "userName",
            "The user's unique identifier at the service provider; the default match key (filter `userName eq \"<value>\"`).",
        )
        .required(),
        simple("givenName", "name.givenName", ""),
        simple("familyName", "name.familyName", ""),
        simple("middleName", "name.middleName", ""),
        simple("honorificPrefix", "name.honorificPrefix", "e.g. Ms."),
        simple("honorificSuffix", "name.honorificSuffix", "e.g. III"),
        simple("formattedName", "name.formatted", "The full name, formatted for display."),
        simple(
            "workEmail",
            &typed_path("emails", "work", "value"),
            "The alternative match key when Unique User Identifier is workEmail (filter `emails eq \"<value>\"`).",
        ),
        simple("homeEmail", &typed_path("emails", "home", "value"), ""),
        simple("otherEmail", &typed_path("emails", "other", "value"), ""),
        simple("displayName", "displayName", ""),
        simple("title", "title", ""),
        simple("externalId", "externalId", "Set by the client, typically the source entry's GUID."),
        simple(
            "password",
            "password",
            "Sent, never read back. Map it with Create Only so an existing user's password is not overwritten on every update.",
        )
        .mutability(Mutability::WriteOnly),
        simple("preferredLanguage", "preferredLanguage", "e.g. en-US"),
        simple("userType", "userType", "e.g. Contractor, Employee, Intern, Temp, External, Unknown."),
        simple("locale", "locale", "e.g. en-US"),
        simple("nickName", "nickName", ""),
        simple("profileUrl", "profileUrl", ""),
        simple(
            "profilePhotoUrl",
            &typed_path("photos", "photo", "value"),
            "A URL that points to an image file.",
        ),
        simple(
            "profileThumbnailUrl",
            &typed_path("photos", "thumbnail", "value"),
            "A URL that points to an image file.",
        ),
        simple("timezone", "timezone", "An IANA time-zone name, e.g. America/Los_Angeles."),
    ];
    for t in PHONE_TYPES {
        out.push(simple(&format!("{t}Phone"), &typed_path("phoneNumbers", t, "value"), ""));
    }
    for t in ADDRESS_TYPES {
        for (suffix, sub, notes) in ADDRESS_PARTS {
            out.push(simple(&format!("{t}{suffix}"), &typed_path("addresses", t, sub), notes));
        }
    }
    for t in IM_TYPES {
        out.push(simple(&format!("{t}Im"), &typed_path("ims", t, "value"), ""));
    }
    let list_note = "A list: each value of the mapped source attribute becomes one entry.";
    out.push(simple("entitlements", "entitlements[].value", list_note).multi_valued());
    out.push(simple("roles", "roles[].value", list_note).multi_valued());
    out.push(
        simple(
            "certificates",
            "x509Certificates[].value",
            "A list of base64-encoded DER certificates: each value of the mapped source attribute becomes one entry.",
        )
        .multi_valued(),
    );
    for f in ENTERPRISE_FIELDS {
        out.push(simple(f, &enterprise_path(f), "Enterprise User extension."));
    }
    out.push(simple(
        "manager",
        &enterprise_path("manager.value"),
        "Enterprise User extension. The value is the target's SCIM id of the manager, not a DN or a user name.",
    ));
    out
}

/// The catalogue entries with these codes, in the order given.
///
/// Panics on a code the catalogue lacks: the lists are written in connector
/// code, never taken from user input, so a typo must fail the connector's
/// unit tests.
pub fn pick(codes: &[&str]) -> Vec<AttributeSpec> {
    let all = scim_user_attributes();
    codes
        .iter()
        .map(|code| {
            all.iter()
                .find(|a| a.code == *code)
                .cloned()
                .unwrap_or_else(|| panic!("'{code}' is not in the SCIM catalogue"))
        })
        .collect()
}

/// The catalogue without the entries with these codes.
pub fn without(codes: &[&str]) -> Vec<AttributeSpec> {
    for code in codes {
        assert!(scim_user_attributes().iter().any(|a| a.code == *code), "'{code}' is not in the SCIM catalogue");
    }
    scim_user_attributes().into_iter().filter(|a| !codes.contains(&a.code.as_str())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_catalogue_has_every_field_of_the_spec_once() {
        let all = scim_user_attributes();
        // 22 scalar fields, 6 phones, 18 addresses, 8 IMs, 3 lists, 5 enterprise fields, manager.
        assert_eq!(all.len(), 22 + 6 + 18 + 8 + 3 + 5 + 1);
        let codes: BTreeSet<_> = all.iter().map(|a| a.code.as_str()).collect();
        assert_eq!(codes.len(), all.len(), "codes are unique");
        for code in ["workPhone", "otherFormattedAddress", "homeCountry", "xmppIm", "costCenter"] {
            assert!(codes.contains(code), "{code} is missing");
        }
    }

    #[test]
    fn only_user_name_is_required_and_only_the_lists_are_multi_valued() {
        let all = scim_user_attributes();
        let required: Vec<_> = all.iter().filter(|a| a.required).map(|a| a.code.as_str()).collect();
        assert_eq!(required, ["userName"]);
        let lists: Vec<_> = all.iter().filter(|a| a.multi_valued).map(|a| a.code.as_str()).collect();
        assert_eq!(lists, ["entitlements", "roles", "certificates"]);
    }

    #[test]
    fn paths_follow_scim_2() {
        let all = scim_user_attributes();
        let target = |code: &str| all.iter().find(|a| a.code == code).unwrap().target.clone();
        assert_eq!(target("workEmail"), r#"emails[type eq "work"].value"#);
        assert_eq!(target("workCity"), r#"addresses[type eq "work"].locality"#);
        assert_eq!(target("homeState"), r#"addresses[type eq "home"].region"#);
        assert_eq!(target("faxPhone"), r#"phoneNumbers[type eq "fax"].value"#);
        assert_eq!(target("profileThumbnailUrl"), r#"photos[type eq "thumbnail"].value"#);
        assert_eq!(target("certificates"), "x509Certificates[].value");
        assert_eq!(target("department"), "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department");
        assert_eq!(target("manager"), "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value");
    }

    #[test]
    fn password_is_write_only_and_recommends_create_only() {
        let p = pick(&["password"]).remove(0);
        assert_eq!(p.mutability, Mutability::WriteOnly);
        assert!(p.notes.contains("Create Only"));
    }

    #[test]
    fn without_drops_exactly_the_named_fields() {
        let rest = without(&["homeEmail", "manager"]);
        assert_eq!(rest.len(), scim_user_attributes().len() - 2);
        assert!(rest.iter().all(|a| a.code != "homeEmail" && a.code != "manager"));
    }

    #[test]
    #[should_panic(expected = "not in the SCIM catalogue")]
    fn pick_refuses_unknown_codes() {
        pick(&["workStreet"]);
    }
}
