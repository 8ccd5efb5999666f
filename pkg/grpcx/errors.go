package grpcx

import (
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// InvalidArgument returns an InvalidArgument status naming the request field
// that is wrong, with the field also carried as a BadRequest detail.
func InvalidArgument(field string, err error) error {
	st := status.New(codes.InvalidArgument, fmt.Sprintf("%s: %v", field, err))
	detailed, detailErr := st.WithDetails(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: err.Error()}},
	})
	if detailErr != nil {
		return st.Err()
	}
	return detailed.Err()
}
