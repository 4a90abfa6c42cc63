package realtime

import "io"

// Message is one server-sent event: Name is the SSE event name (the subscription topic,
// or "PB_CONNECT"), Data its payload, usually compact JSON.
type Message struct {
	// Name is the event name.
	Name string
	// Data is the event payload. It must not contain a newline: it is written as a
	// single `data:` line, as PocketBase does.
	Data []byte
}

// WriteSSE writes m to w in PocketBase's SSE frame format: `id:`, `event:` and `data:`
// lines with no space after the colon, then a blank line. The realtime API passes the
// client id as eventID, which the JS SDK reads back as the event's lastEventId.
//
//	m := realtime.Message{Name: "PB_CONNECT", Data: []byte(`{"clientId":"abc"}`)}
//	_ = m.WriteSSE(w, "abc")
//	// id:abc
//	// event:PB_CONNECT
//	// data:{"clientId":"abc"}
//	//
//
// The caller flushes w.
func (m *Message) WriteSSE(w io.Writer, eventID string) error {
	parts := [...]string{"id:", eventID, "\nevent:", m.Name, "\ndata:"}
	for _, p := range parts {
		if _, err := io.WriteString(w, p); err != nil {
			return err
		}
	}
	if _, err := w.Write(m.Data); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n\n")

	return err
}
