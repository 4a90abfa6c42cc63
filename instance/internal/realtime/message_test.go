package realtime_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/realtime"
)

func TestMessageWriteSSE(t *testing.T) {
	tests := []struct {
		name    string
		msg     realtime.Message
		eventID string
		want    string
	}{
		{
			name:    "PB_CONNECT",
			msg:     realtime.Message{Name: "PB_CONNECT", Data: []byte(`{"clientId":"abc"}`)},
			eventID: "abc",
			want:    "id:abc\nevent:PB_CONNECT\ndata:{\"clientId\":\"abc\"}\n\n",
		},
		{
			name:    "topic with options",
			msg:     realtime.Message{Name: "demo?options=%7B%7D", Data: []byte(`{"record":{},"action":"create"}`)},
			eventID: "x",
			want:    "id:x\nevent:demo?options=%7B%7D\ndata:{\"record\":{},\"action\":\"create\"}\n\n",
		},
		{
			name: "empty",
			want: "id:\nevent:\ndata:\n\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tc.msg.WriteSSE(&buf, tc.eventID); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tc.want {
				t.Errorf("WriteSSE = %q, want %q", got, tc.want)
			}
		})
	}
}

type failWriter struct{ after int }

var errWrite = errors.New("boom")

func (w *failWriter) Write(p []byte) (int, error) {
	if w.after == 0 {
		return 0, errWrite
	}
	w.after--
	return len(p), nil
}

func TestMessageWriteSSEError(t *testing.T) {
	m := realtime.Message{Name: "a", Data: []byte("b")}
	for after := range 7 {
		err := m.WriteSSE(&failWriter{after: after}, "id")
		if !errors.Is(err, errWrite) {
			t.Errorf("failing after %d writes: err = %v, want %v", after, err, errWrite)
		}
	}
}
