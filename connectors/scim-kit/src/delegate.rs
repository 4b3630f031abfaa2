//! [`delegate_to_target!`](crate::delegate_to_target): write the
//! `Connector` operations that a SCIM-based connector hands straight to its
//! [`ScimTarget`](crate::ScimTarget), so each connector spells out only its
//! quirks.
//!
//! ```ignore
//! impl Connector for AcmeScim {
//!     fn manifest() -> Manifest { ... }
//!     fn open(config: ConnectorConfig, host: Host) -> Result<Self, ConnectorError> { ... }
//!     // Written by hand: the operation with a quirk.
//!     async fn delete_user(&self, _id: &str) -> Result<(), ConnectorError> { Err(...) }
//!     // Handed to `self.target` unchanged.
//!     provisio_scim_kit::delegate_to_target!(target => test_connection, find_user, create_user, update_user);
//! }
//! ```

/// Implement the listed `Connector` operations by calling the same method
/// on the `ScimTarget` held in field `$field`.
#[macro_export]
macro_rules! delegate_to_target {
    ($field:ident => $($operation:ident),+ $(,)?) => {
        $( $crate::__delegate_operation!($field $operation); )+
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __delegate_operation {
    ($f:ident test_connection) => {
        async fn test_connection(
            &self,
        ) -> ::core::result::Result<$crate::__core::ops::ConnectionReport, $crate::__core::ConnectorError> {
            self.$f.test_connection().await
        }
    };
    ($f:ident find_user) => {
        async fn find_user(
            &self,
            unique_id: &str,
        ) -> ::core::result::Result<
            ::core::option::Option<$crate::__core::ops::TargetUser>,
            $crate::__core::ConnectorError,
        > {
            self.$f.find_user(unique_id).await
        }
    };
    ($f:ident find_users) => {
        async fn find_users(
            &self,
            unique_id: &str,
        ) -> ::core::result::Result<::std::vec::Vec<$crate::__core::ops::TargetUser>, $crate::__core::ConnectorError> {
            self.$f.find_users(unique_id).await
        }
    };
    ($f:ident list_users) => {
        async fn list_users(
            &self,
            cursor: ::core::option::Option<&str>,
            count: u32,
        ) -> ::core::result::Result<$crate::__core::ops::UserPage, $crate::__core::ConnectorError> {
            self.$f.list_users(cursor, count).await
        }
    };
    ($f:ident create_user) => {
        async fn create_user(
            &self,
            user: &$crate::__core::ops::UserRecord,
        ) -> ::core::result::Result<$crate::__core::ops::TargetUser, $crate::__core::ConnectorError> {
            self.$f.create_user(user).await
        }
    };
    ($f:ident update_user) => {
        async fn update_user(
            &self,
            target_id: &str,
            user: &$crate::__core::ops::UserRecord,
        ) -> ::core::result::Result<(), $crate::__core::ConnectorError> {
            self.$f.update_user(target_id, user).await
        }
    };
    ($f:ident disable_user) => {
        async fn disable_user(&self, target_id: &str) -> ::core::result::Result<(), $crate::__core::ConnectorError> {
            self.$f.disable_user(target_id).await
        }
    };
    ($f:ident enable_user) => {
        async fn enable_user(&self, target_id: &str) -> ::core::result::Result<(), $crate::__core::ConnectorError> {
            self.$f.enable_user(target_id).await
        }
    };
    ($f:ident delete_user) => {
        async fn delete_user(&self, target_id: &str) -> ::core::result::Result<(), $crate::__core::ConnectorError> {
            self.$f.delete_user(target_id).await
        }
    };
    ($f:ident find_group) => {
        async fn find_group(
            &self,
            name: &str,
        ) -> ::core::result::Result<
            ::core::option::Option<$crate::__core::ops::TargetGroup>,
            $crate::__core::ConnectorError,
        > {
            self.$f.find_group(name).await
        }
    };
    ($f:ident create_group) => {
        async fn create_group(
            &self,
            group: &$crate::__core::ops::GroupRecord,
        ) -> ::core::result::Result<$crate::__core::ops::TargetGroup, $crate::__core::ConnectorError> {
            self.$f.create_group(group).await
        }
    };
    ($f:ident update_group) => {
        async fn update_group(
            &self,
            target_id: &str,
            group: &$crate::__core::ops::GroupRecord,
            added: &[::std::string::String],
            removed: &[::std::string::String],
        ) -> ::core::result::Result<(), $crate::__core::ConnectorError> {
            self.$f.update_group(target_id, group, added, removed).await
        }
    };
    ($f:ident delete_group) => {
        async fn delete_group(&self, target_id: &str) -> ::core::result::Result<(), $crate::__core::ConnectorError> {
            self.$f.delete_group(target_id).await
        }
    };
}
