"""The portal's roles. The groups and their permissions are created by migration 0003."""

ADMINISTRATOR = "管理者"  # curates everything in the admin
SECRETARIAT = "事務局"  # browses everything incl. pending, publishes, exports
MEMBER = "委員"  # submits remarks and edits their own
