// Package realtime holds the subscription clients of the realtime API, after
// PocketBase's tools/subscriptions: a [Broker] of registered [Client]s, each with its
// topics (and per-topic [SubscriptionOptions]), a small key/value store (the realtime
// API keeps the client's auth record there) and a bounded queue of [Message]s that
// the SSE handler drains and writes with [Message.WriteSSE].
//
// The package knows nothing of HTTP, records or rules: the HTTP layer registers one
// client per SSE connection, replaces its subscriptions on POST /api/realtime, and
// delivers record events to the clients whose topics match.
//
//	b := realtime.NewBroker()
//	c := realtime.NewClient()
//	b.Register(c)
//	defer b.Unregister(c.ID())
//
//	c.Subscribe(`demo/*`, `demo?options={"query":{"fields":"id"}}`)
//	for _, sub := range c.Subscriptions("demo/*", "demo") {
//		c.Send(realtime.Message{Name: sub.Topic, Data: []byte(`{"record":{},"action":"create"}`)})
//	}
//
//	for range c.Ready() { // closed when the client is discarded
//		for _, m := range c.Drain(nil) {
//			_ = m.WriteSSE(w, c.ID())
//		}
//	}
//
// Memory: an idle client costs a few hundred bytes (no goroutine, no buffer); the
// message queue is allocated only while messages are pending.
//
// Only the standard library is imported: the package is a leaf and never imports
// other instance packages.
package realtime
