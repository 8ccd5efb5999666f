package backend

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/store/postgres/pgtest"
)

func TestOpen(t *testing.T) {
	t.Chdir(t.TempDir()) // for the relative file
	tests := []struct {
		name    string
		url     string
		wantErr string // empty: the store opens
	}{
		{name: "memory", url: Memory},
		{name: "postgres URL", url: pgtest.NewDSN(t)},
		{name: "postgresql URL", url: strings.Replace(pgtest.NewDSN(t), "postgres://", "postgresql://", 1)},
		{name: "sqlite URL", url: "sqlite://" + filepath.Join(t.TempDir(), "vigil.db")},
		{name: "file path", url: filepath.Join(t.TempDir(), "state")},
		{name: "relative .db file", url: "vigil-backend-test.db"},
		{name: "sqlite URL without a path", url: "sqlite://", wantErr: `scheme "sqlite" is not supported`},
		{name: "MySQL URL", url: "mysql://root:s3cret-pw@127.0.0.1:3306/vigil", wantErr: `scheme "mysql" is not supported; give a PostgreSQL URL (postgres:// or postgresql://), an embedded store`},
		{name: "unknown scheme", url: "etcd://127.0.0.1:2379", wantErr: `scheme "etcd" is not supported`},
		{name: "keyword/value DSN", url: "host=127.0.0.1 password=s3cret-pw dbname=vigil", wantErr: `not a URL; give a PostgreSQL URL (postgres:// or postgresql://), an embedded store`},
		{name: "misspelt memory", url: "memroy", wantErr: "not a URL"},
		{name: "empty", url: "", wantErr: "not a URL"},
		{name: "no scheme", url: "://127.0.0.1", wantErr: "not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			st, err := Open(ctx, tt.url)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Open = %v", err)
				}
				st.Close()
				return
			}
			if err == nil {
				st.Close()
				t.Fatalf("Open(%q) opened a store, want error %q", tt.url, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Open = %v, want error containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "s3cret-pw") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}
