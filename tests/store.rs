//! The store's behaviour, written once over the ports (`opsbot::store`):
//! every backend runs this same suite. A case is an `async fn(Arc<dyn Storage>)` in one of the
//! modules below, listed once in [`suite!`]; a backend is one `suite!` line
//! naming how to make a fresh, empty store.

pub mod changes;
mod inbox;
mod living;
mod outbox;
mod retention;

/// One `#[tokio::test]` per case for the backend `$backend`, each on a store
/// from `$make().await`.
macro_rules! suite {
    ($backend:ident, $make:path) => {
        mod $backend {
            suite!(@cases $make, changes: [
                a_key_is_claimed_once,
                a_change_comes_back_exactly_as_stored_with_its_message,
                of_many_concurrent_approvals_exactly_one_wins,
                a_finished_change_keeps_no_secret,
                changes_are_found_by_state,
                overdue_lists_only_waiting_changes_past_their_time,
                the_audit_log_reads_newest_first_filtered_by_user_and_command,
                a_running_change_belongs_to_its_replica_until_its_lease_lapses,
                a_released_lease_can_be_taken_at_once_and_a_final_change_has_none,
                of_many_replicas_taking_over_a_lapsed_change_exactly_one_wins,
            ]);
            suite!(@cases $make, inbox: [
                a_key_is_stored_once_however_often_it_arrives,
                rows_wait_in_arrival_order_until_handled_and_stay_known_after,
                a_failed_row_waits_for_its_retry_while_the_rows_behind_it_are_due,
                a_row_that_keeps_failing_is_parked_with_its_body_and_last_error,
                arrivals_are_each_handled_with_their_key_or_kept_and_a_known_key_writes_nothing,
                a_lot_of_one_alarms_changes_keeps_the_last_of_each_and_a_break_in_their_chain_keeps_the_rest_waiting,
            ]);
            suite!(@cases $make, living: [
                a_record_is_kept_at_version_one_and_each_write_over_it_moves_it_on,
                a_record_that_moved_on_since_it_was_read_is_refused_and_nothing_of_its_notification_commits,
            ]);
            suite!(@cases $make, outbox: [
                a_second_post_of_a_waiting_key_just_carries_the_newest_content,
                ten_updates_of_an_unsent_message_leave_one_write_with_the_last_content,
                updates_of_a_posted_message_share_one_row_until_it_is_sent,
                a_write_already_handed_to_slack_is_never_changed_under_the_sender,
                an_update_coalesced_after_the_sender_read_its_row_is_what_the_row_sends,
                replies_are_never_coalesced_and_go_to_the_channel_of_their_message,
                updating_or_replying_to_a_message_never_queued_writes_nothing,
                each_channel_offers_its_oldest_write_and_failed_rows_hold_nothing_up,
                the_backlog_counts_waiting_writes_since_the_oldest_and_not_failed_ones,
                when_a_post_fails_for_good_the_next_update_of_its_key_is_posted_instead,
                an_update_after_a_failed_post_with_nothing_waiting_becomes_a_new_post,
                a_sent_post_records_where_its_message_lives_and_leaves_the_queue,
                a_retry_is_persisted_with_its_time_state_and_reason,
                a_notification_commits_its_records_its_writes_and_its_inbox_row_together,
                a_notification_another_replica_already_handled_commits_nothing_the_second_time,
                notifications_committed_together_each_stand_or_fall_alone_and_later_ones_build_on_earlier_ones,
                a_write_for_a_message_never_posted_is_dropped_and_the_rest_of_the_notification_still_commits,
                a_notification_repeated_after_a_crash_updates_its_message_instead_of_posting_it_again,
                a_channel_is_sent_to_by_one_replica_until_its_lease_lapses_or_is_released,
                of_many_replicas_leasing_a_free_channel_exactly_one_wins,
            ]);
            suite!(@cases $make, retention: [
                finished_changes_go_after_their_retention_and_waiting_ones_never,
                closed_records_go_and_open_alarms_and_drift_stay_however_old,
                a_message_an_open_alarm_shows_in_is_kept_so_it_can_still_be_edited,
                a_message_with_a_write_still_waiting_is_kept,
                failed_sends_go_after_their_retention_and_live_ones_stay,
                handled_keys_and_parked_notifications_go_after_the_inbox_retention,
                the_audit_log_is_kept_forever_unless_a_retention_is_set,
            ]);
        }
    };
    (@cases $make:path, $module:ident: [$($case:ident),* $(,)?]) => {
        mod $module {
            $(
                #[tokio::test]
                async fn $case() {
                    crate::store::$module::$case($make().await).await
                }
            )*
        }
    };
}

/// An alarm's living record, shown in message `alarm:<id>`, kept over `version`.
fn alarm_record(id: &str, body: &str, version: Option<u64>) -> opsbot::store::LivingRecord {
    opsbot::store::LivingRecord {
        kind: opsbot::store::Living::Alarm,
        id: id.into(),
        open: true,
        body: body.into(),
        message: format!("alarm:{id}"),
        version,
    }
}

/// A fresh SQLite store in memory.
async fn sqlite() -> std::sync::Arc<dyn opsbot::store::Storage> {
    opsbot::store::open(None).expect("an in-memory SQLite store")
}

suite!(on_sqlite, crate::store::sqlite);

/// A fresh SQLite store in a file: the same rules with its reading
/// connection (lookups on a second connection, see `store::sqlite::db`).
async fn sqlite_file() -> std::sync::Arc<dyn opsbot::store::Storage> {
    // The directory outlives the test's store; it is a few KB under the temp dir.
    let dir = tempfile::tempdir().expect("a temp dir").keep();
    opsbot::store::open(Some(&dir.join("store.db"))).expect("a SQLite store on disk")
}

suite!(on_sqlite_file, crate::store::sqlite_file);

/// A fresh DynamoDB store: a new table on moto (`table::create`, as
/// `opsbot store init` makes it), uniquely named.
async fn dynamodb() -> std::sync::Arc<dyn opsbot::store::Storage> {
    use opsbot::store::dynamodb::{DynamoStore, table};
    let client = aws_sdk_dynamodb::Client::new(&crate::support::emulators::emulators().await.sdk_config().await);
    let name = crate::support::emulators::unique("opsbot-store");
    table::create(&client, &name).await.expect("the table is created on moto");
    std::sync::Arc::new(DynamoStore::open(client, &name).await.expect("the new table is accepted"))
}

suite!(on_dynamodb, crate::store::dynamodb);
