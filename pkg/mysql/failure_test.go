package mysql

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

const (
	classRefused   = topologyv1.ErrorClass_ERROR_CLASS_REFUSED
	classTimeout   = topologyv1.ErrorClass_ERROR_CLASS_TIMEOUT
	classAuth      = topologyv1.ErrorClass_ERROR_CLASS_AUTH
	classTooMany   = topologyv1.ErrorClass_ERROR_CLASS_TOO_MANY_CONNECTIONS
	classProtocol  = topologyv1.ErrorClass_ERROR_CLASS_PROTOCOL
	classOther     = topologyv1.ErrorClass_ERROR_CLASS_OTHER
	classPrivilege = topologyv1.ErrorClass_ERROR_CLASS_PRIVILEGE
	classTLS       = topologyv1.ErrorClass_ERROR_CLASS_TLS
)

func TestClassifyConnect(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name      string
		err       error
		class     topologyv1.ErrorClass
		number    uint32
		detailHas string
	}{
		{"too many connections", &mysql.MySQLError{Number: 1040, Message: "Too many connections"}, classTooMany, 1040, "1040"},
		{"access denied", &mysql.MySQLError{Number: 1045, Message: "Access denied"}, classAuth, 1045, "Access denied"},
		{"db access denied", &connectError{dialed: true, err: &mysql.MySQLError{Number: 1044}}, classAuth, 1044, ""},
		{"no password", &mysql.MySQLError{Number: 1698}, classAuth, 1698, ""},
		{"host not allowed", &mysql.MySQLError{Number: 1130}, classAuth, 1130, "1130"},
		{"host blocked", &mysql.MySQLError{Number: 1129}, classAuth, 1129, "1129"},
		{"refused", &connectError{err: refused}, classRefused, 0, "connection refused"},
		{"dial timeout", &connectError{err: context.DeadlineExceeded}, classTimeout, 0, "no TCP connection within 500ms"},
		{"no route", &connectError{err: &net.OpError{Op: "dial", Err: syscall.EHOSTUNREACH}}, classOther, 0, ""},
		{"handshake deadline", &connectError{dialed: true, err: context.DeadlineExceeded}, classTimeout, 0,
			"no MySQL handshake within 500ms"},
		{"handshake read timeout", &connectError{dialed: true, netErr: os.ErrDeadlineExceeded, err: mysql.ErrInvalidConn},
			classTimeout, 0, "no MySQL handshake"},
		{"closed at once", &connectError{dialed: true, netErr: io.EOF, err: mysql.ErrInvalidConn}, classProtocol, 0,
			"without a MySQL handshake"},
		{"garbage", &connectError{dialed: true, received: 28, netErr: io.EOF, err: mysql.ErrInvalidConn}, classProtocol, 0,
			"28 bytes"},
		{"unknown auth plugin", &connectError{dialed: true, received: 90, err: mysql.ErrUnknownPlugin}, classAuth, 0, ""},
		{"canceled", &connectError{dialed: true, err: context.Canceled}, classOther, 0, "canceled"},
		{"server without TLS", &connectError{dialed: true, received: 90, err: mysql.ErrNoTLS}, classTLS, 0, "TLS"},
		{"certificate not trusted", &connectError{dialed: true, received: 90, err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}},
			classTLS, 0, "certificate"},
		{"not TLS", &connectError{dialed: true, received: 90, err: tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}},
			classTLS, 0, "TLS"},
		{"pool busy", context.DeadlineExceeded, classTimeout, 0, "no free pooled connection"},
		{"pool closed", errors.New("sql: database is closed"), classOther, 0, "closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := classifyConnect(fmt.Errorf("wrapped: %w", tt.err), 500*time.Millisecond)
			if f.class != tt.class || f.number != tt.number || !strings.Contains(f.detail, tt.detailHas) {
				t.Errorf("got %v %d %q, want %v %d containing %q", f.class, f.number, f.detail, tt.class, tt.number, tt.detailHas)
			}
		})
	}
}

func TestClassifyQuery(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		netErr    error
		class     topologyv1.ErrorClass
		number    uint32
		detailHas string
	}{
		{"privilege", &mysql.MySQLError{Number: 1227, Message: "Access denied; you need the REPLICATION CLIENT privilege"},
			nil, classPrivilege, 1227, "1227"},
		{"table privilege", &mysql.MySQLError{Number: 1142, Message: "SELECT command denied to user"},
			nil, classPrivilege, 1142, "1142"},
		{"deadline", context.DeadlineExceeded, nil, classTimeout, 0, "no answer within 1s"},
		{"read timeout", mysql.ErrInvalidConn, os.ErrDeadlineExceeded, classTimeout, 0, "no answer"},
		{"server gone", mysql.ErrInvalidConn, io.EOF, classOther, 0, "connection lost: closed by the server"},
		{"reset", mysql.ErrInvalidConn, syscall.ECONNRESET, classOther, 0, "reset by the server"},
		{"other", errors.New("boom"), nil, classOther, 0, "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := classifyQuery(tt.err, tt.netErr, time.Second)
			if f.class != tt.class || f.number != tt.number || !strings.Contains(f.detail, tt.detailHas) {
				t.Errorf("got %v %d %q, want %v %d containing %q", f.class, f.number, f.detail, tt.class, tt.number, tt.detailHas)
			}
		})
	}
}
