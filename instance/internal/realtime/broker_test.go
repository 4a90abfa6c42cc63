package realtime_test

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/realtime"
)

func TestBroker(t *testing.T) {
	b := realtime.NewBroker()
	if got := b.ChunkedClients(2); got != nil {
		t.Errorf("ChunkedClients of an empty broker = %v, want nil", got)
	}

	clients := []*realtime.Client{}
	for i := range 5 {
		c := realtime.NewClientWithID(fmt.Sprint("c", i))
		clients = append(clients, c)
		b.Register(c)
	}
	if b.TotalClients() != 5 || len(b.Clients()) != 5 {
		t.Fatalf("TotalClients = %d, want 5", b.TotalClients())
	}

	chunks := b.ChunkedClients(2)
	sizes := []int{}
	total := 0
	for _, ch := range chunks {
		sizes = append(sizes, len(ch))
		total += len(ch)
	}
	if len(chunks) != 3 || total != 5 || sizes[0] != 2 || sizes[2] != 1 {
		t.Errorf("ChunkedClients(2) sizes = %v, want [2 2 1]", sizes)
	}
	if got := b.ChunkedClients(0); len(got) != 1 || len(got[0]) != 5 {
		t.Errorf("ChunkedClients(0) = %d chunks, want 1 of 5", len(got))
	}

	got, err := b.ClientByID("c1")
	if err != nil || got != clients[1] {
		t.Fatalf("ClientByID(c1) = %v, %v", got, err)
	}
	if _, err := b.ClientByID("nope"); !errors.Is(err, realtime.ErrClientNotFound) {
		t.Fatalf("ClientByID(nope) err = %v, want ErrClientNotFound", err)
	}

	b.Unregister("c1")
	b.Unregister("c1")
	if !clients[1].IsDiscarded() || b.TotalClients() != 4 {
		t.Fatalf("Unregister: discarded=%v total=%d", clients[1].IsDiscarded(), b.TotalClients())
	}

	b.Shutdown()
	for _, c := range clients {
		if !c.IsDiscarded() {
			t.Errorf("client %s not discarded by Shutdown", c.ID())
		}
	}
	late := realtime.NewClient()
	b.Register(late)
	if !late.IsDiscarded() || b.TotalClients() != 0 {
		t.Errorf("a client registered after Shutdown is kept")
	}
}

func TestBrokerConcurrency(t *testing.T) {
	b := realtime.NewBroker()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 100 {
				c := realtime.NewClientWithID(fmt.Sprint(w, "-", i))
				b.Register(c)
				for _, chunk := range b.ChunkedClients(7) {
					for _, other := range chunk {
						other.Send(realtime.Message{Name: "x"})
						_ = other.Subscriptions("x")
					}
				}
				if i%2 == 0 {
					b.Unregister(c.ID())
				}
			}
		})
	}
	wg.Wait()
	if got := b.TotalClients(); got != 8*50 {
		t.Errorf("TotalClients = %d, want %d", got, 8*50)
	}
	b.Shutdown()
}

func BenchmarkClientSend(b *testing.B) {
	c := realtime.NewClient()
	m := realtime.Message{Name: "demo/*", Data: []byte(`{"record":{},"action":"create"}`)}
	var buf []realtime.Message
	for b.Loop() {
		c.Send(m)
		<-c.Ready()
		buf = c.Drain(buf[:0])
	}
}

// BenchmarkIdleClientMemory reports the heap of one registered idle client with two
// topics (one with options) and an auth value, as the realtime API keeps it.
func BenchmarkIdleClientMemory(b *testing.B) {
	const n = 10000
	for b.Loop() {
		broker := realtime.NewBroker()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range n {
			c := realtime.NewClient()
			c.Set("ip", "127.0.0.1")
			c.Set("auth", nil)
			c.SetSubscriptions("posts/*", `posts?options={"query":{"fields":"id"}}`)
			broker.Register(c)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/client")
		runtime.KeepAlive(broker)
	}
}
