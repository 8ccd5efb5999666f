package mysql

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"

	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// MySQL error numbers that decide an error class.
const (
	erConCountError       = 1040 // ER_CON_COUNT_ERROR: too many connections
	erDBAccessDenied      = 1044 // ER_DBACCESS_DENIED_ERROR
	erAccessDenied        = 1045 // ER_ACCESS_DENIED_ERROR
	erAccessDeniedNoPassw = 1698 // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
	erHostIsBlocked       = 1129 // ER_HOST_IS_BLOCKED: too many connection errors from Vigil's host
	erHostNotPrivileged   = 1130 // ER_HOST_NOT_PRIVILEGED: Vigil's host may not connect
	erTableAccessDenied   = 1142 // ER_TABLEACCESS_DENIED_ERROR
	erColumnAccessDenied  = 1143 // ER_COLUMNACCESS_DENIED_ERROR
	erSpecificAccess      = 1227 // ER_SPECIFIC_ACCESS_DENIED_ERROR: a missing privilege
)

// failure is a classified probe error, ready for the snapshot.
type failure struct {
	class  topologyv1.ErrorClass
	number uint32
	// detail explains the failure to people; the caller adds where it
	// happened.
	detail string
}

// classifyMySQL classifies an error the server sent.
func classifyMySQL(me *mysql.MySQLError) failure {
	f := failure{
		class:  topologyv1.ErrorClass_ERROR_CLASS_OTHER,
		number: uint32(me.Number),
		detail: fmt.Sprintf("MySQL error %d: %s", me.Number, me.Message),
	}
	switch me.Number {
	case erConCountError:
		f.class = topologyv1.ErrorClass_ERROR_CLASS_TOO_MANY_CONNECTIONS
	case erDBAccessDenied, erAccessDenied, erAccessDeniedNoPassw, erHostIsBlocked, erHostNotPrivileged:
		f.class = topologyv1.ErrorClass_ERROR_CLASS_AUTH
	case erTableAccessDenied, erColumnAccessDenied, erSpecificAccess:
		f.class = topologyv1.ErrorClass_ERROR_CLASS_PRIVILEGE
	}
	return f
}

// classifyConnect classifies a failure to open a connection within budget.
func classifyConnect(err error, budget time.Duration) failure {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return classifyMySQL(me)
	}
	if errors.Is(err, context.Canceled) {
		return failure{class: topologyv1.ErrorClass_ERROR_CLASS_OTHER, detail: "probe canceled"}
	}
	var ce *connectError
	if !errors.As(err, &ce) {
		// From database/sql itself: every attempt to connect returns a
		// connectError, so this is a wait for a pooled connection that
		// timed out, or a closed pool.
		if isTimeout(err) {
			return failure{class: topologyv1.ErrorClass_ERROR_CLASS_TIMEOUT,
				detail: fmt.Sprintf("no free pooled connection within %s: earlier probes of this instance are still running", budget)}
		}
		return failure{class: topologyv1.ErrorClass_ERROR_CLASS_OTHER, detail: err.Error()}
	}
	if !ce.dialed {
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return failure{class: topologyv1.ErrorClass_ERROR_CLASS_REFUSED, detail: "connection refused"}
		case isTimeout(err):
			return failure{class: topologyv1.ErrorClass_ERROR_CLASS_TIMEOUT,
				detail: fmt.Sprintf("no TCP connection within %s", budget)}
		}
		return failure{class: topologyv1.ErrorClass_ERROR_CLASS_OTHER, detail: err.Error()}
	}
	// Connected: the handshake or authentication failed.
	switch {
	case isTimeout(err) || isTimeout(ce.netErr):
		return failure{class: topologyv1.ErrorClass_ERROR_CLASS_TIMEOUT,
			detail: fmt.Sprintf("no MySQL handshake within %s", budget)}
	case errors.Is(err, mysql.ErrUnknownPlugin), errors.Is(err, mysql.ErrNativePassword),
		errors.Is(err, mysql.ErrCleartextPassword), errors.Is(err, mysql.ErrOldPassword):
		return failure{class: topologyv1.ErrorClass_ERROR_CLASS_AUTH, detail: err.Error()}
	case errors.Is(err, mysql.ErrNoTLS) || isTLSError(err):
		return failure{class: topologyv1.ErrorClass_ERROR_CLASS_TLS, detail: err.Error()}
	case ce.received == 0:
		return failure{class: topologyv1.ErrorClass_ERROR_CLASS_PROTOCOL,
			detail: "connection closed without a MySQL handshake"}
	}
	return failure{class: topologyv1.ErrorClass_ERROR_CLASS_PROTOCOL,
		detail: fmt.Sprintf("not a MySQL server: received %d bytes that are not a MySQL handshake", ce.received)}
}

// classifyQuery classifies a failed statement on an open connection; netErr
// is the socket's first error, if known.
func classifyQuery(err, netErr error, readTimeout time.Duration) failure {
	var me *mysql.MySQLError
	switch {
	case errors.As(err, &me):
		return classifyMySQL(me)
	case errors.Is(err, context.Canceled):
		return failure{class: topologyv1.ErrorClass_ERROR_CLASS_OTHER, detail: "probe canceled"}
	case isTimeout(err) || isTimeout(netErr):
		return failure{class: topologyv1.ErrorClass_ERROR_CLASS_TIMEOUT,
			detail: fmt.Sprintf("no answer within %s", readTimeout)}
	case netErr != nil && (errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, driver.ErrBadConn)):
		return failure{class: topologyv1.ErrorClass_ERROR_CLASS_OTHER,
			detail: fmt.Sprintf("connection lost: %v", describeNetErr(netErr))}
	}
	return failure{class: topologyv1.ErrorClass_ERROR_CLASS_OTHER, detail: err.Error()}
}

// isTLSError reports a failed TLS handshake: a certificate that does not
// verify, or a peer that does not speak TLS or refuses ours.
func isTLSError(err error) bool {
	var (
		record           tls.RecordHeaderError
		alert            tls.AlertError
		verify           *tls.CertificateVerificationError
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
	)
	return errors.As(err, &record) || errors.As(err, &alert) || errors.As(err, &verify) ||
		errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

// isTimeout reports a context deadline, a socket deadline or a network
// timeout.
func isTimeout(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func describeNetErr(err error) string {
	switch {
	case errors.Is(err, io.EOF):
		return "closed by the server"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset by the server"
	}
	return err.Error()
}
