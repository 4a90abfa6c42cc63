package realtime

import (
	"errors"
	"sync"
)

// ErrClientNotFound is returned by Broker.ClientByID for an unknown id.
var ErrClientNotFound = errors.New("realtime client not found")

// Broker keeps the registered clients by id. It is safe for concurrent use.
//
//	b := realtime.NewBroker()
//	c := realtime.NewClient()
//	b.Register(c)
//	defer b.Unregister(c.ID())
//
//	for _, chunk := range b.ChunkedClients(150) {
//		for _, c := range chunk {
//			c.Send(realtime.Message{Name: "demo/*", Data: data})
//		}
//	}
type Broker struct {
	mu      sync.RWMutex
	clients map[string]*Client
	closed  bool
}

// NewBroker returns an empty broker.
func NewBroker() *Broker {
	return &Broker{clients: map[string]*Client{}}
}

// Register adds c; a client registered after Shutdown is discarded at once.
func (b *Broker) Register(c *Client) {
	b.mu.Lock()
	defer b.mu.Unlock()

	if b.closed {
		c.Discard()
		return
	}
	b.clients[c.ID()] = c
}

// Unregister removes the client with the given id and discards it; an unknown id does
// nothing.
func (b *Broker) Unregister(id string) {
	b.mu.Lock()
	c := b.clients[id]
	delete(b.clients, id)
	b.mu.Unlock()

	if c != nil {
		c.Discard()
	}
}

// ClientByID returns the registered client with the given id, or ErrClientNotFound.
func (b *Broker) ClientByID(id string) (*Client, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()

	c, ok := b.clients[id]
	if !ok {
		return nil, ErrClientNotFound
	}

	return c, nil
}

// TotalClients returns the number of registered clients.
func (b *Broker) TotalClients() int {
	b.mu.RLock()
	defer b.mu.RUnlock()

	return len(b.clients)
}

// Clients returns a snapshot of the registered clients, in no particular order.
func (b *Broker) Clients() []*Client {
	b.mu.RLock()
	defer b.mu.RUnlock()

	out := make([]*Client, 0, len(b.clients))
	for _, c := range b.clients {
		out = append(out, c)
	}

	return out
}

// ChunkedClients returns a snapshot of the registered clients split into chunks of at
// most size clients (size < 1 means one chunk), for broadcasts that process chunks
// concurrently. No clients give no chunks.
func (b *Broker) ChunkedClients(size int) [][]*Client {
	all := b.Clients()
	if len(all) == 0 {
		return nil
	}
	if size < 1 {
		size = len(all)
	}

	chunks := make([][]*Client, 0, (len(all)+size-1)/size)
	for len(all) > 0 {
		n := min(size, len(all))
		chunks = append(chunks, all[:n:n])
		all = all[n:]
	}

	return chunks
}

// Shutdown discards and removes every client, which ends their connections, and makes
// later registrations fail the same way. It is for server shutdown.
func (b *Broker) Shutdown() {
	b.mu.Lock()
	clients := b.clients
	b.clients = map[string]*Client{}
	b.closed = true
	b.mu.Unlock()

	for _, c := range clients {
		c.Discard()
	}
}
