package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"runtime"
	"strings"
	"sync"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/realtime"
	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

// realtimeChunkSize is how many clients one broadcast worker handles at a time
// (PocketBase's clientsChunkSize).
const realtimeChunkSize = 150

// realtimeState is the realtime side of one app: its broker, shared by every router
// built for the app, and the record event bindings.
type realtimeState struct {
	app    *core.App
	broker *realtime.Broker
}

// realtimeStates maps *core.App to its *realtimeState; an entry is removed when its app
// terminates.
var realtimeStates sync.Map

// RealtimeBroker returns the realtime broker of app, creating it (and binding app's
// record events to it) on first use. Routers built for the same app share it.
func RealtimeBroker(app *core.App) *realtime.Broker {
	return realtimeFor(app).broker
}

// realtimeFor returns the realtime state of app, binding it on first use.
func realtimeFor(app *core.App) *realtimeState {
	if v, ok := realtimeStates.Load(app); ok {
		return v.(*realtimeState)
	}

	st := &realtimeState{app: app, broker: realtime.NewBroker()}
	if v, loaded := realtimeStates.LoadOrStore(app, st); loaded {
		return v.(*realtimeState)
	}

	offChange := app.OnRecordChange(st.onRecordChange)
	offPrepare := app.OnRecordDeletePrepare(st.onRecordDeletePrepare)
	app.OnTerminate(func() {
		offChange()
		offPrepare()
		st.broker.Shutdown()
		realtimeStates.Delete(app)
	})

	return st
}

// onRecordChange broadcasts a committed create or update, and a delete that was not
// prepared (see onRecordDeletePrepare). It also keeps the clients' auth in step with
// the auth records they are bound to.
func (st *realtimeState) onRecordChange(ctx context.Context, e core.RecordEvent) {
	if st.broker.TotalClients() == 0 {
		return
	}
	if e.Record.Collection().IsAuth() {
		st.updateClientsAuth(e)
	}

	switch e.Action {
	case core.RecordActionDelete:
		if e.Prepared() {
			return // sent by the prepared after-commit func
		}
		// note: the record is gone, so its rules can't be checked any more; without
		// PrepareRecordDelete only the subscribers needing no check get the event.
		st.broadcast(ctx, e.Action, e.Record, true).send()
	default:
		st.broadcast(ctx, e.Action, e.Record, false).send()
	}
}

// onRecordDeletePrepare checks the rules of a record about to be deleted while it is
// still stored, and sends the messages once the delete has committed (PocketBase's
// "dry cache").
func (st *realtimeState) onRecordDeletePrepare(ctx context.Context, e core.RecordEvent) func(context.Context) {
	if st.broker.TotalClients() == 0 {
		return nil
	}
	out := st.broadcast(ctx, e.Action, e.Record, false)
	if len(out) == 0 {
		return nil
	}

	return func(context.Context) { out.send() }
}

// updateClientsAuth refreshes or clears the auth of the clients bound to an auth record
// that changed: an update that keeps the tokenKey replaces the stored record, one that
// changes it (new password, token reset) or a delete clears it, so that the client
// continues as a guest.
func (st *realtimeState) updateClientsAuth(e core.RecordEvent) {
	r := e.Record
	for _, c := range st.broker.Clients() {
		prev, _ := c.Get(realtimeClientAuthKey).(*core.Record)
		if prev == nil || !isSameAuth(prev, r) {
			continue
		}
		if e.Action == core.RecordActionDelete || prev.TokenKey() != r.TokenKey() {
			c.Unset(realtimeClientAuthKey)
			continue
		}
		c.Set(realtimeClientAuthKey, r)
	}
}

// clientAuth returns the auth record bound to client, or nil for a guest, checked
// against the cached collections (see boundAuth).
func (st *realtimeState) clientAuth(ctx context.Context, client *realtime.Client) *core.Record {
	cols, err := st.app.CachedCollections(ctx)

	return boundAuth(client, cols, err)
}

// boundAuth returns the auth record bound to client, or nil for a guest. An auth whose
// collection was deleted, is no longer an auth collection, or whose token secret changed
// since the client was bound is cleared first, so that the client continues as a guest
// (PocketBase's realtimeUnsetClientsAuthByCollection on an auth collection's secret
// change or delete). The check is made when the auth is used, against cols (the cached
// collections, colsErr when they could not be read: the auth is then kept), so that no
// collection write has to walk the clients.
func boundAuth(client *realtime.Client, cols []*core.Collection, colsErr error) *core.Record {
	auth, _ := client.Get(realtimeClientAuthKey).(*core.Record)
	if auth == nil || colsErr != nil {
		return auth
	}
	bound := auth.Collection()
	for _, c := range cols {
		if c.ID != bound.ID {
			continue
		}
		if c == bound || (c.IsAuth() && c.Auth.AuthToken.Secret == bound.Auth.AuthToken.Secret) {
			return auth
		}
		break
	}
	client.Unset(realtimeClientAuthKey)

	return nil
}

// outbox is the messages of one broadcast.
type outbox []delivery

type delivery struct {
	client *realtime.Client
	msg    realtime.Message
}

func (o outbox) send() {
	for _, d := range o {
		d.client.Send(d.msg)
	}
}

// realtimeRecordData is the data of a record event; the key order is PocketBase's.
type realtimeRecordData struct {
	Record json.RawMessage `json:"record"`
	Action string          `json:"action"`
}

// broadcast computes the messages of a record event for every client subscribed to one
// of its topics (§3.6): `name/id` and `collectionId/id` under the viewRule, `name/*`,
// `collectionId/*` and the bare `name` and `collectionId` under the listRule, each with
// or without options. Each subscription is checked with its client's auth and its
// options as @request.query/headers, plus its `filter` option; the record is then
// expanded, exported for that auth and picked by `fields`.
//
// With noDB, no rule needs the database: only superusers and rules that are "" pass
// (deleted records that were not prepared).
//
// Clients are processed in chunks by up to GOMAXPROCS workers. Subscriptions that see
// the same thing (same auth, same rule, same options) share one check and payload.
func (st *realtimeState) broadcast(ctx context.Context, action string, record *core.Record, noDB bool) outbox {
	// note: the writer's request may end while its commit is being broadcast; the rule
	// queries must not fail with it.
	ctx = context.WithoutCancel(ctx)

	chunks := st.broker.ChunkedClients(realtimeChunkSize)
	if len(chunks) == 0 {
		return nil
	}

	c := record.Collection()
	viewTopics := []string{c.Name + "/" + record.ID(), c.ID + "/" + record.ID()}
	allTopics := append(viewTopics[:2:2], c.Name+"/*", c.ID+"/*", c.Name, c.ID)

	b := &broadcastRun{st: st, action: action, record: record, noDB: noDB, memo: map[string]*broadcastResult{}}
	cols, colsErr := st.app.CachedCollections(ctx)

	var (
		mu  sync.Mutex
		out outbox
		wg  sync.WaitGroup
	)
	work := make(chan []*realtime.Client)
	workers := min(len(chunks), runtime.GOMAXPROCS(0))
	for range workers {
		wg.Go(func() {
			var local outbox
			for chunk := range work {
				for _, client := range chunk {
					subs := client.Subscriptions(allTopics...)
					if len(subs) == 0 {
						continue
					}
					auth := boundAuth(client, cols, colsErr)
					for _, sub := range subs {
						rule, view := c.ListRule, false
						if base := sub.Base(); base == viewTopics[0] || base == viewTopics[1] {
							rule, view = c.ViewRule, true
						}
						if data := b.payload(ctx, auth, rule, view, sub); data != nil {
							local = append(local, delivery{client: client, msg: realtime.Message{Name: sub.Topic, Data: data}})
						}
					}
				}
			}
			mu.Lock()
			out = append(out, local...)
			mu.Unlock()
		})
	}
	for _, chunk := range chunks {
		work <- chunk
	}
	close(work)
	wg.Wait()

	return out
}

// broadcastRun is one broadcast's shared state.
type broadcastRun struct {
	st     *realtimeState
	action string
	record *core.Record
	noDB   bool

	mu   sync.Mutex
	memo map[string]*broadcastResult
}

type broadcastResult struct {
	once sync.Once
	data []byte // nil: not sent
}

// payload returns the message data of the record for one subscription, or nil when
// the subscription may not see it.
func (b *broadcastRun) payload(ctx context.Context, auth *core.Record, rule *string, view bool, sub realtime.Subscription) []byte {
	var key strings.Builder
	if auth != nil {
		key.WriteString(auth.Collection().ID + "/" + auth.ID())
	}
	key.WriteByte(0)
	if view {
		key.WriteByte('v')
	}
	key.WriteByte(0)
	key.WriteString(strings.TrimPrefix(sub.Topic, sub.Base()))

	b.mu.Lock()
	res, ok := b.memo[key.String()]
	if !ok {
		res = &broadcastResult{}
		b.memo[key.String()] = res
	}
	b.mu.Unlock()

	res.once.Do(func() { res.data = b.compute(ctx, auth, rule, sub.Options) })

	return res.data
}

func (b *broadcastRun) compute(ctx context.Context, auth *core.Record, rule *string, opts realtime.SubscriptionOptions) []byte {
	app := b.st.app
	info := &core.RequestInfo{
		Auth:    auth,
		Query:   opts.Query,
		Headers: opts.Headers,
		Method:  "GET",
		Context: core.RequestContextRealtime,
	}
	if info.Query == nil {
		info.Query = map[string]string{}
	}
	if info.Headers == nil {
		info.Headers = map[string]string{}
	}

	if !b.canAccess(ctx, info, rule) {
		return nil
	}

	record := b.record.Fresh()
	records := []*core.Record{record}
	if !b.noDB {
		if paths := core.NormalizeExpands(info.Query["expand"]); len(paths) > 0 {
			if err := app.ExpandRecords(ctx, records, paths, info); err != nil {
				app.Logger().LogAttrs(ctx, slog.LevelDebug, "[broadcastRecord] expand errors",
					slog.String("id", record.ID()), slog.String("error", err.Error()))
			}
		}
		if err := app.ResolveRecordsVisibility(ctx, records, info); err != nil {
			app.Logger().LogAttrs(ctx, slog.LevelDebug, "[broadcastRecord] record enrich error",
				slog.String("id", record.ID()), slog.String("error", err.Error()))
			return nil
		}
	} else if auth != nil && (info.HasSuperuserAuth() || isSameAuth(auth, record)) {
		// without the database only the requester itself and superusers are known to
		// see the email; the manageRule can't be checked.
		if err := app.ResolveRecordsVisibility(ctx, records, &core.RequestInfo{Auth: auth}); err != nil {
			return nil
		}
	}

	body, err := marshalJSON(exportRecords(records, info)[0])
	if err != nil {
		return nil
	}
	if rawFields := info.Query["fields"]; rawFields != "" {
		if picked, err := pickJSON(body, rawFields, false); err == nil {
			body = picked
		} else {
			app.Logger().LogAttrs(ctx, slog.LevelDebug, "[broadcastRecord] pick fields error",
				slog.String("id", record.ID()), slog.String("fields", rawFields), slog.String("error", err.Error()))
		}
	}

	data, err := marshalJSON(realtimeRecordData{Record: body, Action: b.action})
	if err != nil {
		return nil
	}

	return data
}

// canAccess checks the rule, then the subscription's own filter, for one subscriber
// (apis/realtime.go realtimeCanAccessRecord). Failures deny.
func (b *broadcastRun) canAccess(ctx context.Context, info *core.RequestInfo, rule *string) bool {
	app := b.st.app
	superuser := info.HasSuperuserAuth()
	filter := info.Query[search.FilterQueryParam]

	if b.noDB {
		return (superuser || (rule != nil && *rule == "")) && filter == ""
	}

	if ok, err := app.CanAccessRecord(ctx, b.record, info, rule); !ok || err != nil {
		return false
	}
	if filter == "" {
		return true
	}

	if !superuser {
		for _, param := range []string{search.FilterQueryParam, search.SortQueryParam} {
			for _, field := range superuserOnlyQueryFields {
				if strings.Contains(info.Query[param], field) {
					return false
				}
			}
		}
	}

	c := b.record.Collection()
	q := core.RecordQuery(c)
	name := search.NewParamName()
	q.AndWhere(search.NewExpr(search.QuoteIdent(q.TableAlias(), core.FieldNameID)+" = :"+name, search.Params{name: b.record.ID()}))
	resolver := app.NewRecordFieldResolver(ctx, c, info, false)
	expr, err := search.FilterData(filter).BuildExpr(resolver)
	if err != nil {
		return false
	}
	q.AndWhere(expr)
	if err := resolver.UpdateQuery(q); err != nil {
		return false
	}
	q.Limit = 1

	found, err := app.QueryRecords(ctx, c, q.Build())

	return err == nil && len(found) > 0
}
