package main

import (
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/status"
)

// usageError is a mistake on the command line: exit code 2, and no RPC made.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// report prints err, if any, and returns the exit code: 0 for success, 2 for
// a usage error, 1 for anything else.
func report(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "vigilctl: %s\n", describe(err))
	var usage *usageError
	if errors.As(err, &usage) {
		fmt.Fprintln(stderr, "Run 'vigilctl help' for usage.")
		return 2
	}
	return 1
}

// describe renders gRPC errors as "<code>: <message>" and others as they are.
func describe(err error) string {
	var grpcErr interface{ GRPCStatus() *status.Status }
	if errors.As(err, &grpcErr) {
		st := grpcErr.GRPCStatus()
		return fmt.Sprintf("%s: %s", st.Code(), st.Message())
	}
	return err.Error()
}
