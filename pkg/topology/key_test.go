package topology

import (
	"errors"
	"testing"

	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

func TestParseInstanceKey(t *testing.T) {
	tests := []struct {
		in      string
		want    InstanceKey
		wantErr bool
	}{
		{in: "db1:3306", want: InstanceKey{Host: "db1", Port: 3306}},
		{in: " 127.0.0.1:24001 ", want: InstanceKey{Host: "127.0.0.1", Port: 24001}},
		{in: "[::1]:3306", want: InstanceKey{Host: "::1", Port: 3306}},
		{in: "db1", wantErr: true},
		{in: "db1:", wantErr: true},
		{in: ":3306", wantErr: true},
		{in: "db1:0", wantErr: true},
		{in: "db1:65536", wantErr: true},
		{in: "db1:-1", wantErr: true},
		{in: "db 1:3306", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseInstanceKey(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidKey) {
					t.Fatalf("ParseInstanceKey(%q) error = %v, want ErrInvalidKey", tt.in, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseInstanceKey(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestKeyFromProto(t *testing.T) {
	if _, err := KeyFromProto(nil); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("nil key: error = %v", err)
	}
	if _, err := KeyFromProto(&topologyv1.InstanceKey{Host: "db1", Port: 70000}); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("port 70000: error = %v", err)
	}
	k, err := KeyFromProto(&topologyv1.InstanceKey{Host: "db1", Port: 3306})
	if err != nil || k.String() != "db1:3306" {
		t.Errorf("db1:3306 = %v, %v", k, err)
	}
	if got := (InstanceKey{Host: "::1", Port: 3306}).String(); got != "[::1]:3306" {
		t.Errorf("IPv6 String() = %q", got)
	}
}
