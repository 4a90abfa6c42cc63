package realtime_test

import (
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pocketfleet/pocketfleet/instance/internal/realtime"
)

func topics(subs []realtime.Subscription) []string {
	out := []string{}
	for _, s := range subs {
		out = append(out, s.Topic)
	}
	return out
}

func TestNewClientID(t *testing.T) {
	re := regexp.MustCompile(`^[a-zA-Z0-9]{40}$`)
	seen := map[string]bool{}
	for range 100 {
		id := realtime.NewClient().ID()
		if !re.MatchString(id) {
			t.Fatalf("id %q is not 40 alphanumerics", id)
		}
		if seen[id] {
			t.Fatalf("id %q repeated", id)
		}
		seen[id] = true
	}
}

func TestClientSubscriptions(t *testing.T) {
	c := realtime.NewClientWithID("c1")
	opt := withOptions("demo", `{"query":{"fields":"id"}}`)
	c.Subscribe("demo/*", "", opt, "demo/abc", "demo/*x", "other", "demo/*")

	if diff := cmp.Diff([]string{"demo/*", opt, "demo/abc", "demo/*x", "other"}, topics(c.Subscriptions())); diff != "" {
		t.Errorf("all subscriptions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"demo/*", opt}, topics(c.Subscriptions("demo/*", "demo"))); diff != "" {
		t.Errorf("matching demo/* and demo (-want +got):\n%s", diff)
	}
	if got := c.Subscriptions("nope"); len(got) != 0 {
		t.Errorf("Subscriptions(nope) = %v, want none", got)
	}
	if got := c.Subscriptions("demo")[0].Options.Query["fields"]; got != "id" {
		t.Errorf("options query fields = %q, want id", got)
	}
	if !c.HasSubscription(opt) || c.HasSubscription("demo") {
		t.Errorf("HasSubscription: exact topics only")
	}

	c.Unsubscribe("demo/abc", "missing")
	if diff := cmp.Diff([]string{"demo/*", opt, "demo/*x", "other"}, topics(c.Subscriptions())); diff != "" {
		t.Errorf("after Unsubscribe (-want +got):\n%s", diff)
	}

	c.SetSubscriptions("x", "y")
	if diff := cmp.Diff([]string{"x", "y"}, topics(c.Subscriptions())); diff != "" {
		t.Errorf("after SetSubscriptions (-want +got):\n%s", diff)
	}

	c.Unsubscribe()
	if got := c.Subscriptions(); len(got) != 0 {
		t.Errorf("after Unsubscribe() = %v, want none", got)
	}
}

func TestClientStore(t *testing.T) {
	c := realtime.NewClientWithID("c1")
	if c.Get("auth") != nil {
		t.Fatal("empty store returned a value")
	}
	c.Set("auth", 1)
	c.Set("other", "x")
	c.Set("auth", 2)
	if got := c.Get("auth"); got != 2 {
		t.Errorf("Get(auth) = %v, want 2", got)
	}
	c.Unset("auth")
	c.Unset("missing")
	if c.Get("auth") != nil || c.Get("other") != "x" {
		t.Errorf("after Unset: auth=%v other=%v", c.Get("auth"), c.Get("other"))
	}
}

func TestClientSendDrain(t *testing.T) {
	c := realtime.NewClientWithID("c1")
	for i := range 3 {
		if !c.Send(realtime.Message{Name: fmt.Sprint(i)}) {
			t.Fatalf("Send %d refused", i)
		}
	}

	select {
	case <-c.Ready():
	default:
		t.Fatal("Ready has no wake-up after Send")
	}
	select {
	case <-c.Ready():
		t.Fatal("Ready woke twice for one batch")
	default:
	}

	got := c.Drain(nil)
	if len(got) != 3 || got[0].Name != "0" || got[2].Name != "2" {
		t.Fatalf("Drain = %v, want 0,1,2", got)
	}
	if got := c.Drain(nil); len(got) != 0 {
		t.Fatalf("second Drain = %v, want none", got)
	}

	c.Discard()
	c.Discard() // twice is fine
	if !c.IsDiscarded() {
		t.Fatal("IsDiscarded false after Discard")
	}
	if _, ok := <-c.Ready(); ok {
		t.Fatal("Ready not closed after Discard")
	}
	if c.Send(realtime.Message{}) {
		t.Fatal("Send accepted on a discarded client")
	}
}

func TestClientQueueBound(t *testing.T) {
	c := realtime.NewClientWithID("c1")
	c.SetMaxQueued(2)
	for i := range 2 {
		if !c.Send(realtime.Message{}) {
			t.Fatalf("Send %d refused under the bound", i)
		}
	}
	if c.Send(realtime.Message{}) {
		t.Fatal("Send accepted over the bound")
	}
	if !c.IsDiscarded() {
		t.Fatal("a client over its bound is not discarded")
	}
}

func TestClientConcurrency(t *testing.T) {
	c := realtime.NewClientWithID("c1")
	const producers, perProducer = 8, 50

	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range perProducer {
				c.Send(realtime.Message{Name: fmt.Sprint(p, "-", i)})
				c.Subscribe(fmt.Sprint("t", p))
				_ = c.Subscriptions(fmt.Sprint("t", p))
				c.Set("k", i)
				_ = c.Get("k")
			}
		})
	}

	var received atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		var buf []realtime.Message
		for range c.Ready() {
			buf = c.Drain(buf[:0])
			received.Add(int64(len(buf)))
		}
	}()

	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for received.Load() < producers*perProducer && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	c.Discard()
	<-done
	if got := received.Load(); got != producers*perProducer {
		t.Errorf("received %d messages, want %d", got, producers*perProducer)
	}
}
