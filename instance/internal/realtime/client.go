package realtime

import (
	"crypto/rand"
	"sync"
)

// ClientIDLength is the length of a client id: 40 random alphanumerics, as PocketBase.
const ClientIDLength = 40

// DefaultMaxQueued is the default number of messages a client may have pending before
// it is discarded as too slow.
const DefaultMaxQueued = 512

const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// Client is one realtime connection: its id, its subscriptions, a small key/value store
// and a bounded queue of messages waiting to be written. All methods are safe for
// concurrent use.
//
// Producers call [Client.Send]; the connection's handler waits on [Client.Ready] and
// takes the pending messages with [Client.Drain]. There is no goroutine per client.
//
// note: PocketBase's client has an unbuffered channel and every send runs in its own
// goroutine, so a stalled connection piles up goroutines. Here the queue is bounded:
// a client more than MaxQueued messages behind is discarded, which ends its
// connection, and the JS SDK reconnects and resubmits its topics.
type Client struct {
	id string
	// ready has room for one wake-up and is closed on Discard.
	ready chan struct{}

	mu        sync.Mutex
	subs      []Subscription
	store     []storeEntry
	queue     []Message
	maxQueued int
	discarded bool
	// notify, when set, is called after a message is queued and once on discard.
	notify func()
}

type storeEntry struct {
	key   string
	value any
}

// NewClient returns a client with a new random id and a queue bound of
// DefaultMaxQueued messages.
//
//	c := realtime.NewClient()
//	c.Set("auth", authRecord)
//	c.Subscribe("demo/*")
func NewClient() *Client {
	return NewClientWithID(randomID())
}

// NewClientWithID returns a client with the given id (tests, and ids chosen elsewhere).
func NewClientWithID(id string) *Client {
	return &Client{id: id, ready: make(chan struct{}, 1), maxQueued: DefaultMaxQueued}
}

// randomID returns ClientIDLength random characters of idAlphabet.
func randomID() string {
	const n = ClientIDLength
	// note: 62 letters; bytes ≥ 248 (4*62) are rejected so every letter is equally likely.
	out := make([]byte, 0, n)
	var buf [2 * n]byte
	for len(out) < n {
		_, _ = rand.Read(buf[:]) // never fails (crypto/rand)
		for _, b := range buf {
			if b >= 4*62 {
				continue
			}
			out = append(out, idAlphabet[b%62])
			if len(out) == n {
				break
			}
		}
	}

	return string(out)
}

// ID returns the client id.
func (c *Client) ID() string {
	return c.id
}

// SetMaxQueued sets how many messages may be pending before the client is discarded;
// n < 1 means DefaultMaxQueued.
func (c *Client) SetMaxQueued(n int) {
	if n < 1 {
		n = DefaultMaxQueued
	}
	c.mu.Lock()
	c.maxQueued = n
	c.mu.Unlock()
}

// Subscribe adds topics to the client's subscriptions, parsing their options with
// ParseSubscription. An empty topic is ignored; subscribing to a topic again replaces
// its options.
func (c *Client) Subscribe(topics ...string) {
	parsed := parseSubscriptions(topics)

	c.mu.Lock()
	defer c.mu.Unlock()
	c.addLocked(parsed)
}

// SetSubscriptions replaces all the client's subscriptions with topics at once, as
// POST /api/realtime does.
func (c *Client) SetSubscriptions(topics ...string) {
	parsed := parseSubscriptions(topics)

	c.mu.Lock()
	defer c.mu.Unlock()
	c.subs = nil
	c.addLocked(parsed)
}

func parseSubscriptions(topics []string) []Subscription {
	parsed := make([]Subscription, 0, len(topics))
	for _, t := range topics {
		if t != "" {
			parsed = append(parsed, ParseSubscription(t))
		}
	}

	return parsed
}

func (c *Client) addLocked(parsed []Subscription) {
	for _, s := range parsed {
		if i := c.indexOf(s.Topic); i >= 0 {
			c.subs[i] = s
			continue
		}
		c.subs = append(c.subs, s)
	}
}

// Unsubscribe removes the given topics; with none, it removes every subscription.
func (c *Client) Unsubscribe(topics ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if len(topics) == 0 {
		c.subs = nil
		return
	}
	for _, t := range topics {
		if i := c.indexOf(t); i >= 0 {
			c.subs = append(c.subs[:i], c.subs[i+1:]...)
		}
	}
}

func (c *Client) indexOf(topic string) int {
	for i, s := range c.subs {
		if s.Topic == topic {
			return i
		}
	}

	return -1
}

// HasSubscription reports whether the client is subscribed to the exact topic.
func (c *Client) HasSubscription(topic string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.indexOf(topic) >= 0
}

// Subscriptions returns a copy of the subscriptions whose base (the topic without its
// options, see Subscription.Base) is one of bases, in subscription order; with no
// bases, all of them. It is PocketBase's prefix match `name/*?`: "demo/*" matches
// `demo/*` and `demo/*?options=…`, never `demo/*x`.
func (c *Client) Subscriptions(bases ...string) []Subscription {
	c.mu.Lock()
	defer c.mu.Unlock()

	var out []Subscription
	for _, s := range c.subs {
		if len(bases) == 0 || containsString(bases, s.Base()) {
			out = append(out, s)
		}
	}

	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}

	return false
}

// Set stores value under key in the client's store.
func (c *Client) Set(key string, value any) {
	c.mu.Lock()
	defer c.mu.Unlock()

	for i := range c.store {
		if c.store[i].key == key {
			c.store[i].value = value
			return
		}
	}
	c.store = append(c.store, storeEntry{key: key, value: value})
}

// Get returns the value stored under key, or nil.
func (c *Client) Get(key string) any {
	c.mu.Lock()
	defer c.mu.Unlock()

	for _, e := range c.store {
		if e.key == key {
			return e.value
		}
	}

	return nil
}

// Unset removes key from the client's store.
func (c *Client) Unset(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()

	for i, e := range c.store {
		if e.key == key {
			c.store = append(c.store[:i], c.store[i+1:]...)
			return
		}
	}
}

// Send queues m for the connection and wakes its handler. It reports whether m was
// queued: false when the client is discarded, or when the queue is full, in which
// case the client is discarded.
func (c *Client) Send(m Message) bool {
	c.mu.Lock()
	if c.discarded {
		c.mu.Unlock()
		return false
	}
	queued := len(c.queue) < c.maxQueued
	if queued {
		c.queue = append(c.queue, m)
		select {
		case c.ready <- struct{}{}:
		default: // a wake-up is already pending
		}
	} else {
		c.discardLocked()
	}
	notify := c.notify
	c.mu.Unlock()

	if notify != nil {
		notify()
	}

	return queued
}

// OnReady sets fn to be called after every Send that queues a message and once when
// the client is discarded, besides the Ready channel, so that a connection with no
// goroutine waiting on Ready can schedule its writes. fn runs on the sender's
// goroutine and must not block.
func (c *Client) OnReady(fn func()) {
	c.mu.Lock()
	c.notify = fn
	c.mu.Unlock()
}

// Ready returns the channel that receives a value when messages are pending, and is
// closed once the client is discarded.
func (c *Client) Ready() <-chan struct{} {
	return c.ready
}

// Drain appends the pending messages to dst, in the order they were sent, empties the
// queue and returns dst.
func (c *Client) Drain(dst []Message) []Message {
	c.mu.Lock()
	defer c.mu.Unlock()

	dst = append(dst, c.queue...)
	clear(c.queue)
	if cap(c.queue) > 64 {
		c.queue = nil // don't keep a burst's buffer on an idle client
	} else {
		c.queue = c.queue[:0]
	}

	return dst
}

// Discard marks the client as discarded: it takes no more messages, its pending ones
// are dropped and Ready is closed, which ends its connection. It is safe to call
// more than once.
func (c *Client) Discard() {
	c.mu.Lock()
	wasDiscarded := c.discarded
	c.discardLocked()
	notify := c.notify
	c.mu.Unlock()

	if notify != nil && !wasDiscarded {
		notify()
	}
}

func (c *Client) discardLocked() {
	if c.discarded {
		return
	}
	c.discarded = true
	c.queue = nil
	close(c.ready)
}

// IsDiscarded reports whether the client was discarded.
func (c *Client) IsDiscarded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.discarded
}
