// Package metrics holds the instance's Prometheus metrics and their HTTP handler, served
// on the separate --metrics-http listener so that a tenant URL never exposes them.
//
// Besides the Go runtime (go_*) and process (process_*) collectors, the registry of New
// carries:
//
//	metric                                                 type       labels
//	pocketfleet_http_requests_total                        counter    method, route, status
//	pocketfleet_http_request_duration_seconds              histogram  method, route
//	pocketfleet_realtime_connections                       gauge
//	pocketfleet_realtime_messages_sent_total               counter
//	pocketfleet_record_writes_total                        counter    collection, action
//	pocketfleet_db_write_transaction_duration_seconds      histogram  db, outcome
//	pocketfleet_db_open_connections                        gauge      db, pool
//	pocketfleet_db_in_use_connections                      gauge      db, pool
//	pocketfleet_db_idle_connections                        gauge      db, pool
//	pocketfleet_db_max_open_connections                    gauge      db, pool
//	pocketfleet_db_wait_count_total                        counter    db, pool
//	pocketfleet_db_wait_duration_seconds_total             counter    db, pool
//	pocketfleet_backup_last_success_timestamp_seconds      gauge
//	pocketfleet_backup_age_seconds                         gauge
//	pocketfleet_backup_active                              gauge
//
// route is the matched route template in PocketBase's pattern form
// ("/api/collections/{collection}/records"), or "unmatched"; status is the response
// code. action is create, update or delete; a record write is counted once committed
// (a cascade delete counts each record). db is "data" (data.db) or "auxiliary"
// (auxiliary.db), pool "read" (the concurrent readers) or "write" (the single writer),
// outcome "commit" or "rollback". The backup time is that of the newest backup file in
// pb_data/backups; the two backup time metrics are absent while there is none.
//
// Every Metrics method is safe on a nil *Metrics, which records nothing.
package metrics
