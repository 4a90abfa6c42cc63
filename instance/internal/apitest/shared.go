package apitest

import (
	"bytes"
	"sync"
)

// SyncBuffer is a bytes.Buffer that serving goroutines and a test may share, for
// capturing logs and command output.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// PocketBaseFreshSettingsJSON is GET /api/settings on a new PocketBase v0.40.4 install
// (which the fixture's settings are): the defaults in struct order, nil lists as [], and
// smtp.password, s3.secret and backups.s3.secret left out.
const PocketBaseFreshSettingsJSON = `{"superuserIPs":[],` +
	`"smtp":{"enabled":false,"port":587,"host":"smtp.example.com","username":"","authMethod":"","tls":false,"localName":""},` +
	`"backups":{"cron":"","cronMaxKeep":3,"s3":{"enabled":false,"bucket":"","region":"","endpoint":"","accessKey":"","forcePathStyle":false}},` +
	`"s3":{"enabled":false,"bucket":"","region":"","endpoint":"","accessKey":"","forcePathStyle":false},` +
	`"meta":{"accentColor":"#1055c9","appName":"Acme","appURL":"http://localhost:8090","senderName":"Support","senderAddress":"support@example.com","hideControls":false},` +
	`"rateLimits":{"rules":[{"label":"*:auth","audience":"","duration":3,"maxRequests":2},{"label":"*:create","audience":"","duration":5,"maxRequests":20},` +
	`{"label":"/api/batch","audience":"","duration":1,"maxRequests":3},{"label":"/api/","audience":"","duration":10,"maxRequests":300}],"excludedIPs":[],"enabled":false},` +
	`"trustedProxy":{"headers":[],"useLeftmostIP":false},` +
	`"batch":{"enabled":false,"maxRequests":50,"timeout":3,"maxBodySize":0},` +
	`"logs":{"maxDataSize":0,"maxDays":5,"minLevel":0,"logIP":true,"logAuthId":false}}`
